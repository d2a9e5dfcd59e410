#!/usr/bin/env bash
# Makes sure the Temporal *server* (not the dev server) and its SQL schema tool
# exist for `make cluster-up`, and prints `NAME=PATH` lines:
#   SB_TEMPORAL_SERVER_BIN, SB_TEMPORAL_SQL_TOOL_BIN, SB_TEMPORAL_SCHEMA_DIR.
# Order: the variables if already set; else the build cache; else build both
# with the Go toolchain from the Go module proxy (pinned version; several
# minutes on 2 cores, first run only). The SQL schema comes with the module's
# source in Go's module cache.
set -euo pipefail

VERSION="${SB_TEMPORAL_SERVER_VERSION:-v1.29.1}"
MODULE="go.temporal.io/server"
CACHE="${SB_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/bin}"
log() { echo "switchboard: $*" >&2; }

server="${SB_TEMPORAL_SERVER_BIN:-$CACHE/temporal-server-$VERSION}"
sqltool="${SB_TEMPORAL_SQL_TOOL_BIN:-$CACHE/temporal-sql-tool-$VERSION}"
if [[ ! -x "$server" || ! -x "$sqltool" ]]; then
  command -v go >/dev/null 2>&1 || { log "Go is needed to build the Temporal server $VERSION (or set SB_TEMPORAL_SERVER_BIN and SB_TEMPORAL_SQL_TOOL_BIN)"; exit 1; }
  log "building the Temporal server $VERSION and temporal-sql-tool with $(go version | awk '{print $3}') into $CACHE (first run only; several minutes)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp/bin" GOFLAGS=-mod=mod nice -n 10 go install "$MODULE/cmd/server@$VERSION" "$MODULE/cmd/tools/sql@$VERSION" >&2)
  mkdir -p "$CACHE"
  mv "$tmp/bin/server" "$server"
  mv "$tmp/bin/sql" "$sqltool"
fi
schema="${SB_TEMPORAL_SCHEMA_DIR:-}"
if [[ -z "$schema" ]]; then
  modcache="$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")"
  schema="$modcache/$MODULE@$VERSION/schema/postgresql/v12"
  if [[ ! -d "$schema" ]]; then
    (cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download "$MODULE@$VERSION" >&2) || true
  fi
fi
[[ -d "$schema/temporal/versioned" ]] || { log "Temporal's PostgreSQL schema not found under $schema (set SB_TEMPORAL_SCHEMA_DIR)"; exit 1; }
echo "SB_TEMPORAL_SERVER_BIN=$server"
echo "SB_TEMPORAL_SQL_TOOL_BIN=$sqltool"
echo "SB_TEMPORAL_SCHEMA_DIR=$schema"
