#!/usr/bin/env bash
# Makes sure `temporal` (Temporal CLI: dev server with SQLite and Web UI) and
# `nats-server` (JetStream) exist, and prints `NAME=PATH` lines for both.
#
# Order for each: one already on PATH; else one in the cache; else build it
# with the Go toolchain from the Go module proxy into the cache (pinned
# versions); else, for NATS only, Debian's nats-server package. Nothing is
# downloaded from anywhere else.
set -euo pipefail

TEMPORAL_MODULE="github.com/temporalio/cli/cmd/temporal"
# v1.6+ carries `replace` directives that `go install` refuses.
TEMPORAL_VERSION="${SB_TEMPORAL_CLI_VERSION:-v1.5.1}"
NATS_MODULE="github.com/nats-io/nats-server/v2"
NATS_VERSION="${SB_NATS_SERVER_VERSION:-v2.15.2}"
CACHE="${SB_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/bin}"

log() { echo "switchboard: $*" >&2; }

go_build() { # module version name
  local module="$1" version="$2" name="$3"
  command -v go >/dev/null 2>&1 || return 1
  mkdir -p "$CACHE"
  log "building $name $version with $(go version | awk '{print $3}') into $CACHE (first run only; a few minutes)"
  CGO_ENABLED=0 GOBIN="$CACHE" GOFLAGS=-mod=mod go install "$module@$version" >&2 || return 1
  [[ -x "$CACHE/$name" ]]
}

find_temporal() {
  if [[ -n "${SB_TEMPORAL_BIN:-}" && -x "$SB_TEMPORAL_BIN" ]]; then echo "$SB_TEMPORAL_BIN"; return; fi
  if command -v temporal >/dev/null 2>&1; then command -v temporal; return; fi
  if [[ -x "$CACHE/temporal" ]]; then echo "$CACHE/temporal"; return; fi
  if go_build "$TEMPORAL_MODULE" "$TEMPORAL_VERSION" temporal; then echo "$CACHE/temporal"; return; fi
  log "cannot find or build the Temporal CLI."
  log "install Go >= 1.25 (then re-run), or put a 'temporal' binary on PATH, or set SB_TEMPORAL_BIN."
  return 1
}

find_nats() {
  if [[ -n "${SB_NATS_BIN:-}" && -x "$SB_NATS_BIN" ]]; then echo "$SB_NATS_BIN"; return; fi
  if command -v nats-server >/dev/null 2>&1; then command -v nats-server; return; fi
  if [[ -x "$CACHE/nats-server" ]]; then echo "$CACHE/nats-server"; return; fi
  if go_build "$NATS_MODULE" "$NATS_VERSION" nats-server; then echo "$CACHE/nats-server"; return; fi
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    log "falling back to Debian's nats-server package"
    (apt-get install -y nats-server >&2 || { apt-get update >&2 && apt-get install -y nats-server >&2; }) && command -v nats-server && return
  fi
  log "cannot find or build nats-server."
  log "install Go >= 1.25 (then re-run), or 'apt-get install nats-server', or set SB_NATS_BIN."
  return 1
}

temporal_bin="$(find_temporal)"
nats_bin="$(find_nats)"
echo "SB_TEMPORAL_BIN=$temporal_bin"
echo "SB_NATS_BIN=$nats_bin"
