# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps system-deps-qgis demo test lint bench clean

setup: $(STAMP)

# Debian packages the tests use: gdal-bin (ogrinfo reads the service's GeoJSON like a GIS
# would), chromium (headless browser test of the HTML map) and fonts-noto-cjk (Chinese
# labels on PNG maps). Installed when missing and when apt-get can run; tests that need
# them skip otherwise (and PNG maps fall back to English labels without a CJK font).
system-deps:
	@missing=""; \
	command -v ogrinfo >/dev/null 2>&1 || missing="$$missing gdal-bin"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if ! command -v fc-list >/dev/null 2>&1; then missing="$$missing fontconfig fonts-noto-cjk"; \
	elif [ -z "$$(fc-list :lang=zh family 2>/dev/null)" ]; then missing="$$missing fonts-noto-cjk"; fi; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "warning: could not install$$missing; the checks that need them will be skipped"; \
	  else echo "note:$$missing not installed (needs root apt-get); the checks that need them will be skipped"; fi; \
	fi

# Opt-in: QGIS's Python bindings for the test of QGIS's own OGC API - Features client
# (tests/api/test_api_ogc_qgis.py, skipped without them). Not in system-deps: on Debian 12
# python3-qgis brings 170 packages, about 100 MB to download and 930 MB installed (82 s).
system-deps-qgis:
	@if /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then echo "python3-qgis: installed"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends python3-qgis >/dev/null; \
	else echo "note: python3-qgis needs root apt-get; the QGIS test will be skipped"; fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[api,dev]"
	$(BIN)/recyclenet network warmup  # compile the numba kernels now, not at the first matrix
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/recyclenet demo

test: $(STAMP) system-deps
	$(BIN)/ruff check src api tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src api tests benchmarks
	$(BIN)/ruff format --check src api tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
