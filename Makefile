# Two commands: `make run` and `make test`. Everything else they need is installed on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The service worker (Workbox, scripts/build-sw.mjs): rebuilt whenever a file it precaches changes.
SW := web/build/sw.js
SW_SOURCES := $(shell find web/static core/i18n -type f 2>/dev/null) web/templates/field.html scripts/build-sw.mjs

.PHONY: run test setup system lint bench clean

run: setup
	$(BIN)/mahalle serve

test: setup
	@$(BIN)/pytest; status=$$?; \
	if [ $$status = 5 ]; then echo "pytest collected no tests: that is a failure" >&2; exit 1; fi; exit $$status

setup: system $(STAMP) $(NODE_STAMP) $(SW)

system:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Front-end packages come from the npm registry at set-up time and are served by the app itself.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(SW): $(NODE_STAMP) $(SW_SOURCES)
	node scripts/build-sw.mjs

lint: setup
	$(BIN)/ruff check .

# Mahalle side by side with tipg, pygeoapi, ogr2ogr and the raw queries (bench/RESULTS.md). BENCH_ARGS="--scale 20000"
bench: setup
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules web/build .pytest_cache .ruff_cache
