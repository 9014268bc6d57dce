# The README's two commands are `make serve` and `make test`. Both work on a fresh machine:
# they create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# The machine's local CPU build of torch (pip finds it; a plain `torch` requirement would pull CUDA).
TORCH_SPEC ?= torch==2.13.0

.PHONY: serve test lint bench venv install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -q $(TORCH_SPEC)
	$(PIP) install -q -e '.[dev,neural]'
	touch $@ $(VENV)/.installed-base

venv: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

## Start the service: classic engine, SQLite job store, local files, one in-process worker, HTTPS
## with a locally generated certificate (fal-client only speaks https). ARGS="--port 9000" etc.
serve: $(VENV)/.installed-base
	$(BIN)/openpika serve --tls $(ARGS)

## Run the whole test suite (installs the [dev] and [neural] extras first).
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/image_to_video.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
