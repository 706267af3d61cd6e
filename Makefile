# Two commands: `make run` and `make test`. Everything else they need is installed on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system lint bench clean

run: setup
	$(BIN)/mahalle serve

test: setup
	@$(BIN)/pytest; status=$$?; \
	if [ $$status = 5 ]; then echo "pytest collected no tests: that is a failure" >&2; exit 1; fi; exit $$status

setup: system $(STAMP)

system:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
