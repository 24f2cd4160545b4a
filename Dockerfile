# recyclenet: the library, the CLI and the HTTP service, installed as in `make setup`.
FROM python:3.11-slim-bookworm

# NUMBA_CACHE_DIR: the compiled kernels live in the image (site-packages is not writable
# by the service user); NUMBA_CPU_NAME=generic: that machine code runs on any x86-64 host,
# not only on a CPU like the build machine's (numba would recompile on another one).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NUMBA_CACHE_DIR=/opt/recyclenet/numba-cache \
    NUMBA_CPU_NAME=generic

# gdal-bin: ogrinfo for GIS checks; libexpat1: needed by pyosmium wheels;
# fonts-noto-cjk + fontconfig: Chinese labels on the PNG maps (`demo --lang zh`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libexpat1 gdal-bin fontconfig fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY api ./api
COPY data ./data
RUN python -m pip install --upgrade pip && python -m pip install ".[api,postgres]"

RUN useradd --create-home recyclenet && mkdir -p /data "$NUMBA_CACHE_DIR" \
    && chown recyclenet /data "$NUMBA_CACHE_DIR"
USER recyclenet
ENV RECYCLENET_CACHE_DIR=/data/cache \
    RECYCLENET_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

# Compile every numba kernel into the image's cache (fails if one is not reached), and
# check the embedded sample loads: the first matrix of a container does not compile.
RUN recyclenet network warmup && recyclenet network info helsinki --json

# The service (`recyclenet demo --out /data/demo-out` runs the main job instead). It
# migrates the database (RECYCLENET_DATABASE_URL, e.g. postgresql+psycopg://...) first.
CMD ["recyclenet", "serve", "--host", "0.0.0.0", "--port", "8000"]
