# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test lint bench clean

setup: $(STAMP)

# Debian packages the tests use (ogrinfo reads the service's GeoJSON like a GIS would).
# Installed when missing and when apt-get can run; tests that need them skip otherwise.
system-deps:
	@command -v ogrinfo >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdal-bin >/dev/null) \
	      || echo "warning: could not install gdal-bin; GDAL checks will be skipped"; \
	  else echo "note: gdal-bin not installed (needs root apt-get); GDAL checks will be skipped"; fi; }

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[api,dev]"
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
