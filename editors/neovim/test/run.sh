#!/usr/bin/env bash
# Headless Neovim end-to-end test of editors/neovim against the built server.
# Usage: editors/neovim/test/run.sh [path/to/stackaudit]   (NVIM selects the nvim binary)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
binary="${1:-$repo/target/release/stackaudit}"
nvim="${NVIM:-nvim}"

if ! command -v "$nvim" >/dev/null 2>&1; then
    echo "FAIL: Neovim ($nvim) is not installed; see editors/neovim/README.md" >&2
    exit 1
fi
version="$("$nvim" --version | head -n 1)"
case "$version" in
    "NVIM v0.1"[1-9]*|"NVIM v0."[2-9][0-9]*|"NVIM v"[1-9]*) ;;
    *) echo "FAIL: $version is too old; Neovim 0.11+ is needed" >&2; exit 1 ;;
esac
if [ ! -x "$binary" ]; then
    echo "FAIL: no stackaudit binary at $binary (cargo build --release)" >&2
    exit 1
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
cp "$here"/fixtures/* "$workdir/"
export HOME="$workdir/home" XDG_CONFIG_HOME="$workdir/config" XDG_DATA_HOME="$workdir/data" \
    XDG_STATE_HOME="$workdir/state" XDG_CACHE_HOME="$workdir/cache"
export STACKAUDIT_BIN="$binary" STACKAUDIT_TEST_DIR="$workdir"

echo "$version"
timeout 120 "$nvim" --headless -u "$here/init.lua" -c "luafile $here/e2e.lua"
