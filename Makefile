# sc2-lsp: `make demo` sets everything up and shows a completion through the real
# server; `make test` runs the whole suite (Python, Neovim, VS Code).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-python test-vscode system-deps vscode-deps vllm-deps lint bench clean

setup: $(STAMP)

# torch first and pinned: the CPU build on this disk; an unpinned torch pulls CUDA.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $@

demo: setup
	$(PY) -m sc2_lsp.demo

# Debian packages the editor tests drive: Neovim (0.7 on Debian 12), Emacs + eglot,
# Vim + ALE, tmux.
system-deps:
	bash scripts/system-deps.sh

# vLLM (CPU build) in its own venv under ~/.cache/sc2-lsp, for the remote-engine tests.
vllm-deps:
	bash scripts/vllm-venv.sh >/dev/null

vscode-deps:
	cd clients/vscode && npm ci --ignore-scripts --no-audit --no-fund

test: setup system-deps vllm-deps test-python test-vscode

# SC2_REQUIRE_VLLM=1: the remote-engine tests fail, never skip, without their vLLM.
test-python: setup vllm-deps
	SC2_REQUIRE_VLLM=1 $(PY) -m pytest -q --durations=25

test-vscode: setup vscode-deps
	cd clients/vscode && npm test
	bash clients/vscode/scripts/e2e.sh

lint: setup
	$(VENV)/bin/ruff check sc2_lsp tests model scripts

clean:
	rm -rf $(VENV) bench-out tests/artifacts clients/vscode/node_modules clients/vscode/dist
