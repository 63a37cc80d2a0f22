# Ember: `make run` starts the platform, `make test` passes the tests. Nothing else is needed on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 9000
STAMP := $(VENV)/.installed

.PHONY: install run test unit integration bench clean examples java node-sdk cluster test-cluster e2e ric aws-libraries checks

install: $(STAMP) java node-sdk

$(STAMP): pyproject.toml
	command -v nft >/dev/null || ! command -v apt-get >/dev/null || [ "$$(id -u)" != 0 ] || (apt-get update && apt-get install -y nftables)  # environments' egress NAT
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,tune]'
	ldconfig -p | grep -q 'libseccomp\.so\.2 ' || (apt-get update && apt-get install -y libseccomp2)  # pyseccomp loads it: the environments' seccomp filter
	touch $(STAMP)

java: $(STAMP)  # the Java runtimes, where there is a JDK: Ember's Java bootstrap compiled once against AWS's aws-lambda-java-serialization (Maven fetches it)
	! command -v javac >/dev/null || command -v mvn >/dev/null || (apt-get update && apt-get install -y maven)
	! command -v javac >/dev/null || $(BIN)/python -c 'from ember.runtimes.jvm import built_runtime; built_runtime()'

node-sdk:  # AWS's JavaScript SDK v3, preinstalled for Node.js functions at /var/runtime/node_modules (where there is npm)
	! command -v npm >/dev/null || test ember/runtimes/node_modules/.package-lock.json -nt ember/runtimes/package-lock.json || npm ci --prefix ember/runtimes --no-audit --no-fund --loglevel=error

cluster: $(STAMP)  # Ray, for `ember serve --cluster ray`, tests/e2e and bench/cluster.py (`make run` never needs it)
	$(BIN)/python -c 'import ray, sys; sys.exit(ray.__version__ != "2.60.0")' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[test,tune,cluster]'

run: install
	$(BIN)/ember serve --port $(PORT) --deploy examples/hello

test: install cluster
	command -v curl >/dev/null && command -v go >/dev/null && command -v javac >/dev/null || (apt-get update && apt-get install -y curl golang-go openjdk-17-jdk-headless)  # runtime tests: bash+curl, Go, Java
	$(MAKE) java  # again: an apt upgrade of the JDK above makes the class-data archive stale, and this rebuilds it
	$(MAKE) -j3 --output-sync=target ric aws-libraries checks  # independent, so side by side (~2 min, not ~3.5)
	$(BIN)/python -m pytest tests
	EMBER_TEST_CLUSTER=ray $(BIN)/python -m pytest tests/integration/test_invoke.py -k "not init_is_capped"  # Invoke's behaviour suite again, on a one-node Ray cluster (~30 s; `make test-cluster` runs more)

ric: $(STAMP)  # AWS's Node.js runtime interface client for the tests (builds a native addon, ~2 minutes; once)
	sh tests/integration/runtimes/aws-lambda-ric/install.sh

aws-libraries: $(STAMP)  # AWS's libraries in every language, from their registries, as functions for the tests (cached)
	for lib in go-aws rust java-aws java-sdk python-web; do sh tests/integration/runtimes/$$lib/install.sh || exit 1; done

checks: $(STAMP)  # lint and types (configured in pyproject.toml): strict for ember.core and ember.api
	$(BIN)/ruff check ember tests
	$(BIN)/mypy

# Integration tests whose servers run their environments on a one-node Ray cluster (`--cluster ray`): a representative
# subset, as each server start costs a Ray cluster's start (~10-20 s here). README "Running on several machines" says how long.
CLUSTER_SUBSET := test_invoke.py test_environments.py test_concurrency.py test_versions.py test_aliases.py \
	test_provisioned.py test_function_credentials.py test_streaming.py test_metering.py test_async_invocation.py \
	test_layers.py
test-cluster: install cluster
	EMBER_TEST_CLUSTER=ray $(BIN)/python -m pytest $(addprefix tests/integration/,$(CLUSTER_SUBSET))

e2e: install cluster  # the three-node cluster tests alone (also part of `make test`)
	$(BIN)/python -m pytest tests/e2e

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

bench: install ric  # bench/runtimes.py measures AWS's Node.js runtime interface client too
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	! command -v npm >/dev/null || test -d bench/serverless-offline/node_modules || npm ci --prefix bench/serverless-offline --no-audit --no-fund --loglevel=error  # the fastest peer, a second baseline
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .ember build *.egg-info ember/runtimes/java/build ember/runtimes/node_modules tests/integration/runtimes/aws-lambda-ric/node_modules

examples:  # build what the examples need before `ember deploy`: the Go one's bootstrap binary
	command -v go >/dev/null || (apt-get update && apt-get install -y golang-go)
	cd examples/hello-go && CGO_ENABLED=0 go build -o bootstrap .
