# Two commands for a fresh machine: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint schema graphiql browser bench bench-compare bench-profile clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# GraphiQL's bundle (web/graphiql: pinned by its lockfile, built with esbuild), served at
# /graphql by the API itself, so it works where no CDN can be reached. Not committed.
GRAPHIQL := api/static/graphiql/manifest.json
$(GRAPHIQL): web/graphiql/package-lock.json web/graphiql/build.mjs $(wildcard web/graphiql/src/*)
	@if command -v npm >/dev/null; then \
		cd web/graphiql && npm ci --no-audit --no-fund --silent && node build.mjs; \
	else echo "npm not found: GraphiQL stays unbuilt (node 20 and npm build it)" >&2; fi

graphiql: $(GRAPHIQL)  ## GraphiQL's bundle (needs node and npm)

# The browser test drives Debian's chromium headless; install it where it is missing.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium could not be installed: the browser test will be skipped" >&2

run: $(STAMP) $(GRAPHIQL)  ## API on http://127.0.0.1:8000/graphql with the demo chain
	$(BIN)/stockgraph serve --demo

test: $(STAMP) $(GRAPHIQL) browser  ## the whole suite (real PostgreSQL: DATABASE_URL, else 127.0.0.1:5432)
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## ruff, mypy, import-linter layer contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

schema: $(STAMP)  ## regenerate schema.graphql from the code
	$(BIN)/stockgraph schema export > schema.graphql

bench: $(STAMP)  ## benchmarks, on demand: figures and their ratios to the bars
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.compare

bench-compare: $(STAMP)  ## stockgraph vs PostGraphile v5 vs pgbench (BENCH_ARGS=--quick for a short run)
	$(BIN)/python -m bench.compare $(BENCH_ARGS)

bench-writes: $(STAMP)  ## M3 recordSale commits/s (BENCH_ARGS="--before DIR" measures the old code in turn)
	$(BIN)/python -m bench.writes $(BENCH_ARGS)

bench-profile: $(STAMP)  ## py-spy samples of one shape under load (SHAPE=q1|q2|m1|m2)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.profile --shape $(or $(SHAPE),q1)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache api/static/graphiql web/graphiql/node_modules \
		examples/partner/node_modules examples/partner/dist examples/partner/src/gql
