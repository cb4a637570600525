#!/usr/bin/env bash
# Prepares what the comparison benches need, outside the repository and cached between
# runs: Ruff and Semgrep (pinned, from PyPI, in a virtual environment) and the Django
# source release (a large real code base nobody here wrote). Prints the cache folder.
#
#   benches/setup.sh            # then: cargo bench --bench lsp_latency / --bench check
set -euo pipefail

RUFF_VERSION=0.17.6
SEMGREP_VERSION=1.180.0  # newer ones need a certifi the registry here lacks
DJANGO_VERSION=5.1.4

cache="${STACKAUDIT_BENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/stackaudit-bench}"
mkdir -p "$cache"

venv="$cache/venv-ruff$RUFF_VERSION-semgrep$SEMGREP_VERSION"
if [ ! -x "$venv/bin/semgrep" ] || [ ! -x "$venv/bin/ruff" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "ruff==$RUFF_VERSION" "semgrep==$SEMGREP_VERSION" >&2
fi

django="$cache/Django-$DJANGO_VERSION"
if [ ! -d "$django/django" ]; then
  download="$cache/download"
  mkdir -p "$download"
  "$venv/bin/pip" download --quiet --disable-pip-version-check \
    --no-binary :all: --no-deps --dest "$download" "django==$DJANGO_VERSION" >&2
  tar -xzf "$download"/[Dd]jango-"$DJANGO_VERSION".tar.gz -C "$cache"
  [ -d "$django/django" ] || { echo "Django sources not found in $cache" >&2; exit 1; }
fi

echo "$cache"
