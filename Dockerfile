# recyclenet: the library, the CLI and the HTTP service, installed as in `make setup`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NUMBA_CACHE_DIR=/tmp/numba-cache

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
RUN python -m pip install --upgrade pip && python -m pip install ".[api]"

RUN useradd --create-home recyclenet && mkdir -p /data && chown recyclenet /data
USER recyclenet
ENV RECYCLENET_CACHE_DIR=/data/cache \
    RECYCLENET_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

# Warm the compiled kernels and check the embedded sample loads.
RUN recyclenet network info helsinki --json

# The service (`recyclenet demo --out /data/demo-out` runs the main job instead).
CMD ["recyclenet", "serve", "--host", "0.0.0.0", "--port", "8000"]
