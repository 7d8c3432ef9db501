#!/usr/bin/env bash
# Makes docs/wizard.png, the README's picture of the wizard: the real binary runs in a tmux
# terminal against the built-in emulator, the screen is captured with its colours, turned into
# HTML and rendered by headless Chromium. Needs tmux and chromium (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in tmux chromium; do
  command -v "$tool" >/dev/null || { echo "screenshot: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
make -s build
work=$(mktemp -d)
trap 'tmux kill-session -t eqshot 2>/dev/null || true; rm -rf "$work"' EXIT
session=eqshot
tmux kill-session -t "$session" 2>/dev/null || true
tmux new-session -d -s "$session" -x 110 -y 26 \
  "cd '$work' && ENTRA_QUICKSTART_HOME='$work/home' TERM=xterm-256color COLORTERM=truecolor '$PWD/bin/entra-quickstart' init --emulator --auto-sign-in; sleep 30"
wait_for() {
  for _ in $(seq 1 100); do
    tmux capture-pane -p -t "$session" | grep -qF "$1" && return 0
    sleep 0.1
  done
  echo "screenshot: the wizard never showed '$1'" >&2; exit 1
}
wait_for "Which kind of tenant"
tmux send-keys -t "$session" Down
sleep 0.3
tmux send-keys -t "$session" Enter
wait_for "Which sample"
sleep 0.5
tmux capture-pane -e -p -t "$session" > "$work/screen.ansi"
go run ./scripts/ansi2html < "$work/screen.ansi" > "$work/screen.html"
mkdir -p docs
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$work/chrome" --hide-scrollbars \
  --window-size=1000,250 --screenshot="$PWD/docs/wizard.png" "file://$work/screen.html" >/dev/null 2>&1
echo "wrote docs/wizard.png"
