# Two commands do all set-up on a fresh machine:
#   make demo   virtual environment, install, run `sb3-behave quickstart`
#   make test   virtual environment, install, ruff, the test suite
#   make docs   virtual environment, install, the Sphinx site into docs/_build/html (warnings are errors)
#
# STACK picks the dependency stack (docs/install.md):
#   current (default, .venv)        the newest SB3 / sb3-contrib / rl_zoo3 2.x, gymnasium 1.x, numpy 2,
#                                   imitation 1.0.1's code installed without its stale pins
#   pinned  (.venv-pinned)          imitation 1.0.1 with its own pins: SB3 2.2, gymnasium 0.29.1, numpy 1
# e.g. `make test STACK=pinned`.
PYTHON ?= python3
STACK ?= current
IMITATION := imitation==1.0.1
# The throughput benchmark's peer; --no-deps, as its metadata asks for `pygame` and the current stack has pygame-ce.
PEER := flappy-bird-gymnasium==0.4.0
EXTRAS := dev,docs,video,minari,postgres,offline
ifeq ($(STACK),current)
VENV ?= .venv
# MuJoCo runs the Hopper entries of the shipped configs; the pinned stack skips them, saying so.
# render: pygame-ce, the current stack's pygame (the pinned extra brings gymnasium 0.29's pygame).
EXTRAS := $(EXTRAS),mujoco,render
else ifeq ($(STACK),pinned)
VENV ?= .venv-pinned
EXTRAS := $(EXTRAS),pinned
else
$(error STACK must be 'current' or 'pinned', not '$(STACK)')
endif
BIN := $(VENV)/bin
# Written last by the install recipe: a venv whose install or stack check failed is never taken as done.
INSTALLED := $(VENV)/.sb3-behave-installed
# Development and CI use the CPU build of torch that this machine carries (see constraints-dev.txt).
PIP_INSTALL := $(BIN)/python -m pip install -c constraints-dev.txt
ifeq ($(STACK),current)
# "current" means the newest releases: an older venv's packages are upgraded, not kept.
PIP_STACK := --upgrade --upgrade-strategy eager
endif

.PHONY: install demo test lint docs bench clean

$(INSTALLED): pyproject.toml constraints-dev.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) $(PIP_STACK) -e ".[$(EXTRAS)]"
ifeq ($(STACK),current)
	$(PIP_INSTALL) --no-deps $(IMITATION)
endif
	$(PIP_INSTALL) --no-deps $(PEER)
	$(PIP_INSTALL) --no-deps "$$($(BIN)/python -c 'from sb3_behave.stack import D3RLPY_REQUIREMENTS as R; print(R["$(STACK)"])')" \
		"$$($(BIN)/python -c 'from sb3_behave.stack import GYM_FOR_D3RLPY; print(GYM_FOR_D3RLPY)')"
	$(BIN)/python -m sb3_behave.stack --check $(STACK) || { echo "$(VENV) is not the $(STACK) stack: run 'make clean' and again"; exit 1; }
	touch $@

install: $(INSTALLED)

demo: install
	SDL_VIDEODRIVER=$${SDL_VIDEODRIVER:-dummy} $(BIN)/sb3-behave quickstart --overwrite

lint: install
	$(BIN)/ruff check .

test: lint
	SB3_BEHAVE_STACK=$(STACK) SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/python -m pytest

# -W: a warning is an error (a broken reference, a public name missing from the API reference or
# without a docstring, a code block that does not parse); -E: read every page again.
docs: install
	SDL_VIDEODRIVER=dummy $(BIN)/python -m sphinx -W --keep-going -E -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

# The throughput table of benchmarks/README.md, for the stack: env_throughput.md (current) or env_throughput_pinned.md.
bench: install
	$(BIN)/sb3-behave bench env --seconds 3 --repeats 3 --overwrite \
		--markdown-out benchmarks/results/env_throughput$(if $(filter pinned,$(STACK)),_pinned).md

clean:
	rm -rf .venv .venv-pinned $(VENV) runs .pytest_cache .ruff_cache .hypothesis docs/_build
