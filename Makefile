# The two commands of the README: `make run` and `make test`. Each sets up
# everything it needs (virtual environment, pinned CPU torch, the package,
# the verified model, the index) and is fast the second time.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cqqa-installed
TORCH  := torch==2.13.0
QUERY  ?= what did Yin Qi say about AI 2.0

.PHONY: run test setup models index clean-index

run: index
	$(BIN)/cqqa search "$(QUERY)"

test: index
	$(BIN)/python -m pytest

setup: $(STAMP)

# torch first and pinned: the local CPU wheel. An unpinned torch, asked for by
# sentence-transformers, would pull gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

models: setup
	$(BIN)/cqqa models fetch

index: models
	$(BIN)/cqqa index

clean-index:
	rm -rf index/versions index/CURRENT index/.lock
