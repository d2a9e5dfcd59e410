# Switchboard — every target runs on Node >= 22 (Node 24 LTS is fetched from
# the npm registry into .tools/ when the system Node is older) and on the
# temporal / nats-server binaries that scripts/ensure-binaries.sh finds or builds.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_DIR := $(shell scripts/ensure-node.sh)
ifeq ($(NODE_DIR),)
$(error could not find or install Node >= 22; see the message above)
endif
export PATH := $(NODE_DIR):$(PATH)
# Puts SB_TEMPORAL_BIN and SB_NATS_BIN in the environment of a recipe line.
WITH_BINS = set -a && eval "$$(scripts/ensure-binaries.sh)" && set +a &&

.PHONY: help setup up down status demo test lint typecheck jest bench bench-smoke load format clean check-deploy cluster-up cluster-down cluster-status test-cluster record-histories test-clients

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	@# not `npm ci`: the registry here lacks other platforms' optional binaries
	@# (@swc/core-darwin-*, ...), which `npm ci` insists on; install honours the lock.
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

setup: node_modules/.installed ## install dependencies and build/find temporal + nats-server
	@$(WITH_BINS) echo "temporal: $$SB_TEMPORAL_BIN" && echo "nats-server: $$SB_NATS_BIN" && echo "node: $$(node --version) ($(NODE_DIR))"

up: setup ## start the local stack in the background and wait until healthy
	@$(WITH_BINS) npx tsx services/local-stack/main.ts up

down: node_modules/.installed ## stop the processes `make up` started
	@npx tsx services/local-stack/main.ts down

status: node_modules/.installed ## show what the local stack runs
	@npx tsx services/local-stack/main.ts status

# Puts SB_TEMPORAL_SERVER_BIN, SB_TEMPORAL_SQL_TOOL_BIN and SB_TEMPORAL_SCHEMA_DIR in the environment too.
WITH_SERVER_BINS = $(WITH_BINS) set -a && eval "$$(scripts/ensure-temporal-server.sh)" && set +a &&

cluster-up: setup ## the production topology here: 3 NATS nodes, Temporal server on PostgreSQL, 2 workers, 2 gateways
	@$(WITH_SERVER_BINS) npx tsx services/cluster-stack/main.ts up

test-cluster: setup ## chaos on the production topology (its own cluster stack on SB_CLUSTER_PORT_BASE, default 31000)
	@$(WITH_SERVER_BINS) npx jest -c jest.cluster.config.js

cluster-down: node_modules/.installed ## stop everything cluster-up started
	@npx tsx services/cluster-stack/main.ts down

cluster-status: node_modules/.installed ## what cluster-up runs
	@npx tsx services/cluster-stack/main.ts status

demo: up ## the main job, on the local stack
	@npx tsx services/demo/main.ts

lint: node_modules/.installed ## eslint (incl. workflow determinism rules) and prettier --check
	npx eslint .
	npx prettier --check --log-level warn .

format: node_modules/.installed ## rewrite the code in the project's format (prettier; .prettierrc.json)
	npx prettier --write --log-level warn .

typecheck: node_modules/.installed ## tsc --noEmit (strict)
	npx tsc --noEmit -p tsconfig.json

jest: setup ## the jest suites on an isolated stack
	@$(WITH_BINS) npx jest

test: lint typecheck jest ## lint, type check and every jest suite

test-clients: setup ## the official Python openai/anthropic SDKs and langchain-openai against a stack of its own (.venv-clients)
	@test -x .venv-clients/bin/pip || { rm -rf .venv-clients && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' && python3 -m venv .venv-clients; } \
		|| { rm -rf .venv-clients; echo "make test-clients needs python3 >= 3.11 with venv (Debian: apt-get install python3-venv)" >&2; exit 1; }
	@.venv-clients/bin/pip install --quiet --disable-pip-version-check -r test/clients/requirements.txt -c test/clients/constraints.txt
	@$(WITH_BINS) node --import tsx test/clients/run.ts .venv-clients/bin/python $(PYTEST_ARGS)

record-histories: setup ## record llmCall's histories for the replay test: make record-histories RELEASE=<name> (docs/deploy.md, Upgrades)
	@test -n "$(RELEASE)" || { echo "usage: make record-histories RELEASE=<name>"; exit 2; }
	@$(WITH_BINS) SB_HISTORY_RELEASE=$(RELEASE) npx jest --testMatch '**/*.record.ts' test/calls/call-histories.record.ts

# Parts of `make bench`; `make bench PARTS=cluster` measures part 1 on the production topology (only when asked).
PARTS ?= overhead,faults,scale,crashes,stack
BENCH_BINS = $(if $(findstring cluster,$(PARTS)),$(WITH_SERVER_BINS),$(WITH_BINS))

bench: setup ## benchmark + chaos suite beside Portkey's gateway (≈ 21 min; bench/results/latest); PARTS=cluster for the production topology
	@$(BENCH_BINS) npx tsx bench/suite/main.ts --parts $(PARTS)

load: node_modules/.installed ## closed-loop load on the running stack (make up) with the openai client: vendor vs gateway, c=1 and 10
	@npx tsx bench/demo-load.ts $(LOAD_ARGS)

bench-smoke: setup ## the suite at tiny sizes (~3 min, CI): fails on a broken invariant, not on speed
	@$(WITH_BINS) npx tsx bench/suite/main.ts --smoke

check-deploy: node_modules/.installed ## docker compose config, Kubernetes schema check, licences, npm audit
	scripts/check-deploy.sh

clean: down ## stop the stack and delete .data
	rm -rf .data
