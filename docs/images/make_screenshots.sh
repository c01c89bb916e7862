#!/usr/bin/env bash
# Regenerate the README screenshots of the paddleport language server in a real editor.
#
# What it does: opens examples/cnn_project/cnn/model.py (a copy, in a temp dir) in Neovim 0.7
# inside a detached 120x32 tmux pane, with screenshot_init.lua starting `python -m paddleport lsp`;
# captures the pane with its colours (tmux capture-pane -e), turns the ANSI into HTML with aha and
# the HTML into a PNG with headless Chromium. Writes, next to this script:
#   diagnostics.png  inline diagnostics (signs + virtual text) and one diagnostic's full note
#   quickfix.png     the code-action menu (vim.lsp.buf.code_action) on a torch.nn.Conv2d call
#   converted.png    the buffer after "fix all" (:PaddleportFixAll, source.fixAll)
#
# Needs: apt-get install -y neovim tmux aha chromium fonts-dejavu-core   (Debian 12: nvim 0.7, tmux 3.3)
#        a Python with paddleport installed (default /work/main/.venv/bin/python; override with PP_PYTHON).
# Usage: docs/images/make_screenshots.sh        (re-runnable; takes ~30 s)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PP_PYTHON=${PP_PYTHON:-$REPO/.venv/bin/python}
for tool in nvim tmux aha chromium; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y neovim tmux aha chromium)" >&2; exit 1; }
done

WORK=$(mktemp -d)
SOCK="ppshot$$"
cleanup() { tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
cp "$REPO/examples/cnn_project/cnn/model.py" "$WORK/model.py"

keys() { tmux -L "$SOCK" send-keys "$@"; }
pane() { tmux -L "$SOCK" capture-pane -p "$@"; }
wait_for() {  # wait_for TEXT: poll the pane until TEXT shows up (60 s at most)
  for _ in $(seq 300); do pane | grep -qF -- "$1" && return 0; sleep 0.2; done
  echo "timed out waiting for: $1" >&2; pane >&2; exit 1
}
wait_gone() {  # wait_gone TEXT: poll the pane until TEXT is no longer on screen
  for _ in $(seq 300); do pane | grep -qF -- "$1" || return 0; sleep 0.2; done
  echo "timed out waiting for '$1' to go" >&2; pane >&2; exit 1
}

render() {  # render NAME: current pane → $HERE/NAME.png
  local name=$1
  pane -e -N > "$WORK/$name.ansi"  # -N keeps trailing spaces (full-width highlights)
  {
    cat <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; background: #1e1e1e; }
pre { margin: 0; padding: 12px 14px; color: #d4d4d4; background: #1e1e1e;
      font: 14px/17px "DejaVu Sans Mono", monospace; white-space: pre; }
</style></head><body><pre>
HTML
    aha --no-header < "$WORK/$name.ansi"
    echo '</pre></body></html>'
  } > "$WORK/$name.html"
  mkdir -p "$WORK/chrome-$name"
  chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$WORK/chrome-$name" \
    --window-size=1040,568 --screenshot="$HERE/$name.png" "file://$WORK/$name.html" >/dev/null 2>&1
  echo "wrote $HERE/$name.png"
}

cd "$WORK"
tmux -L "$SOCK" -f /dev/null new-session -d -x 120 -y 32 -e TERM=tmux-256color -e PP_PYTHON="$PP_PYTHON" \
  "nvim -u '$HERE/screenshot_init.lua' model.py"
wait_for "● torch.nn.Module → paddle.nn.Layer"

# 1. Diagnostics: signs and virtual text, plus the full note of a "review" diagnostic in a float.
keys 15G0fB
keys ':lua vim.diagnostic.open_float()' Enter
wait_for "running_var"
keys ':echo ""' Enter
sleep 0.5
render diagnostics

# 2. Quick fix: the code-action menu on the Conv2d call (0.7 shows vim.ui.select as an inputlist).
keys Escape 14G0fC
wait_gone "running_var"
keys ':lua vim.lsp.buf.code_action()' Enter
wait_for "Type number"
sleep 0.3
render quickfix
keys Escape
sleep 0.3

# 3. After fix-all: every exact rewrite applied; what still needs review keeps its diagnostic.
keys ':PaddleportFixAll' Enter
wait_for "import paddle"
keys gg ':echo ""' Enter
sleep 1
render converted
