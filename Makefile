# Two commands do all set-up on a fresh machine:
#   make demo   virtual environment, install, run `sb3-behave quickstart`
#   make test   virtual environment, install, ruff, the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Development and CI use the CPU build of torch that this machine carries (see constraints-dev.txt).
PIP_INSTALL := $(BIN)/python -m pip install -c constraints-dev.txt

.PHONY: install demo test lint bench clean

$(BIN)/sb3-behave: pyproject.toml constraints-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e ".[dev,bench,video]"
	touch $@

install: $(BIN)/sb3-behave

demo: install
	SDL_VIDEODRIVER=$${SDL_VIDEODRIVER:-dummy} $(BIN)/sb3-behave quickstart

lint: install
	$(BIN)/ruff check .

test: lint
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/python -m pytest

bench: install
	$(BIN)/sb3-behave bench env --markdown-out benchmarks/results/env_throughput.md

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache .hypothesis
