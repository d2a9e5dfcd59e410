#!/usr/bin/env bash
# Checks what an operator deploys, without a Docker engine or a cluster:
#   1. docker-compose.yml with `docker compose config` (the compose CLI is
#      built with Go into the cache when the machine has none);
#   2. deploy/k8s/*.yaml against the Kubernetes OpenAPI schemas, strict, with
#      kubernetes-validate from PyPI (it ships the schemas: kubeconform would
#      download them from GitHub at run time, which this network refuses);
#   3. deploy/prometheus/*.yml with Prometheus's own rule parser (the checks of
#      `promtool check rules`; promtool itself does not build from the module
#      proxy here) and deploy/grafana/*.json as JSON (test/operations/
#      dashboards.test.ts checks every metric they name exists);
#   4. production dependencies: licence check (copyleft fails) and npm audit
#      (high severity fails; skipped with a warning when the registry offers
#      no audit endpoint, as the mirror reachable here does not).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${SB_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/bin}"
COMPOSE_VERSION="${SB_COMPOSE_VERSION:-v5.6.0}"
# Prometheus v3.x is Go module v0.3xx.
PROMETHEUS_MODULE_VERSION="${SB_PROMETHEUS_MODULE_VERSION:-v0.316.0}"
log() { echo "check-deploy: $*" >&2; }

compose() {
  if docker compose version >/dev/null 2>&1; then docker compose "$@"; return; fi
  if [[ ! -x "$CACHE/docker-compose" ]]; then
    # `go install` refuses compose (exclude directives in its go.mod): build it from a wrapper module.
    local dir="${CACHE%/bin}/build/compose"
    log "building docker compose $COMPOSE_VERSION with Go into $CACHE (first run only)"
    mkdir -p "$dir" && printf 'module switchboard.local/compose-build\n\ngo 1.26\n' > "$dir/go.mod"
    (cd "$dir" && GOFLAGS=-mod=mod go get "github.com/docker/compose/v5@$COMPOSE_VERSION" >&2 && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$CACHE/docker-compose" github.com/docker/compose/v5/cmd >&2)
  fi
  "$CACHE/docker-compose" "$@"
}

log "docker-compose.yml"
OPENAI_ORG_A_KEY=x OPENAI_ORG_B_KEY=x OPENAI_ORG_C_KEY=x ANTHROPIC_ORG_A_KEY=x SB_PAYLOAD_KEYS=x compose -f docker-compose.yml config --quiet
OPENAI_ORG_A_KEY=x OPENAI_ORG_B_KEY=x OPENAI_ORG_C_KEY=x ANTHROPIC_ORG_A_KEY=x SB_PAYLOAD_KEYS=x compose -f docker-compose.yml --profile demo --profile nats-cluster config --quiet
log "docker-compose.yml: ok"

VENV="${CACHE%/bin}/venv"
if [[ ! -x "$VENV/bin/kubernetes-validate" ]]; then
  log "installing kubernetes-validate from PyPI into $VENV"
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q kubernetes-validate >&2
fi
"$VENV/bin/kubernetes-validate" --strict --quiet -k "${SB_K8S_VERSION:-1.31.0}" deploy/k8s/*.yaml
log "deploy/k8s: ok"

prom_rules_check() {
  if [[ ! -x "$CACHE/prom-rules-check" ]]; then
    local dir="${CACHE%/bin}/build/prom-rules-check"
    log "building prom-rules-check (Prometheus $PROMETHEUS_MODULE_VERSION rule parser) with Go into $CACHE (first run only)"
    mkdir -p "$dir" && cp scripts/prom-rules-check/main.go "$dir/" && printf 'module switchboard.local/prom-rules-check\n\ngo 1.26\n' > "$dir/go.mod"
    (cd "$dir" && GOFLAGS=-mod=mod go get "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" >&2 && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$CACHE/prom-rules-check" . >&2)
  fi
  "$CACHE/prom-rules-check" "$@"
}
prom_rules_check deploy/prometheus/*.yml
for dashboard in deploy/grafana/*.json; do node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$dashboard"; done
log "deploy/prometheus, deploy/grafana: ok"

npx tsx scripts/check-licences.ts
if npm audit --omit=dev --audit-level=high >/tmp/sb-audit.log 2>&1; then
  log "npm audit: no high-severity advisories"
elif grep -q 'audit endpoint returned an error\|Method Not Allowed' /tmp/sb-audit.log; then
  log "npm audit: SKIPPED — this registry has no audit endpoint (run it where the public registry is reachable)"
else
  cat /tmp/sb-audit.log >&2
  exit 1
fi
