# The two commands of the README: `make run` and `make test`. Each sets up
# everything it needs (virtual environment, pinned CPU torch, the package,
# the verified model, the index) and is fast the second time.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cqqa-installed
TORCH  := torch==2.13.0
PORT   ?= 7860
# The browser test drives the real chat in Debian's Chromium; Chinese needs CJK fonts; the
# network test (tests/test_offline.py) watches every connection with strace.
BROWSER_PKGS := chromium fonts-noto-cjk strace
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast setup models index browser clean-index

run: index
	$(BIN)/cqqa serve --port $(PORT)

test: index browser
	$(BIN)/python -m pytest

# The unit tier only: starts no process and loads no model (tests/README.md gives each tier's size).
test-fast: setup
	$(BIN)/python -m pytest -m "unit and not integration and not browser"

# Debian's chromium (Playwright never downloads a browser here), CJK fonts and strace.
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" && command -v strace >/dev/null; then :; else \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $(BROWSER_PKGS); fi

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
