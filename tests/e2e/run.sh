#!/usr/bin/env bash
# The end-to-end test of the VS Code extension in a real VS Code (code-server + headless Chromium),
# run by `make e2e` (part of `make test`). Needs the .vsix (`make client`) and the venv's Python
# (torch + paddle, for the equivalence check). When chromium or code-server cannot be installed the
# test is SKIPPED with a loud banner and the reason; PADDLEPORT_E2E_REQUIRED=1 makes that a failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
VSIX=${PADDLEPORT_E2E_VSIX:-paddleport.vsix}
VENV_PYTHON=${PADDLEPORT_E2E_PYTHON:-.venv/bin/python}

skip() {
  echo
  echo "=================================================================="
  echo "  VS CODE END-TO-END TEST SKIPPED: $*"
  echo "=================================================================="
  echo
  [ "${PADDLEPORT_E2E_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
}

[ -f "$VSIX" ] || { echo "e2e: $VSIX is missing: run make client first"; exit 1; }
[ -x "$VENV_PYTHON" ] || { echo "e2e: $VENV_PYTHON is missing: run make install first"; exit 1; }

started=$(date +%s)
setup_out=$(bash tests/e2e/setup.sh)
status=$?
echo "$setup_out" | grep -v '^E2E_'
if [ $status -ne 0 ]; then
  skip "$(echo "$setup_out" | sed -n 's/^E2E_UNAVAILABLE: //p')"
fi
eval "$(echo "$setup_out" | grep '^E2E_[A-Z_]*=' | sed 's/^/export /')"
# code-server's launcher runs `node` from PATH: Node 24 must come first.
export PATH="$(dirname "$E2E_NODE"):$PATH"
echo "e2e: tools ready in $(( $(date +%s) - started )) s"

E2E_VSIX=$(realpath "$VSIX") E2E_VENV_PYTHON=$(realpath -s "$VENV_PYTHON") \
  "$E2E_NODE" tests/e2e/e2e.mjs
rc=$?
echo "e2e: total $(( $(date +%s) - started )) s"
exit $rc
