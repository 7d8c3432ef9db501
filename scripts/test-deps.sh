#!/usr/bin/env bash
# Installs what the tests need when it is missing: Debian's chromium, python3-msal,
# python3-dotenv and python3-venv, the Python samples' libraries (identity, Flask, Django, MSAL
# Python) in a venv under testdata/python from their hash-pinned lock file, openssl and git,
# node and npm, and the npm peers of testdata/node from their lock file.
# It installs with apt-get when it may (root, or sudo without a password); otherwise it says
# what to run. Under CI a missing tool makes the tests fail, never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v chattr >/dev/null 2>&1 || need_apt+=(e2fsprogs) # a read-only folder that stops root too
if [ ! -x /usr/bin/python3 ]; then
  need_apt+=(python3 python3-msal python3-dotenv)
else
  /usr/bin/python3 -c 'import msal' 2>/dev/null || need_apt+=(python3-msal)
  /usr/bin/python3 -c 'import dotenv' 2>/dev/null || need_apt+=(python3-dotenv)
  /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
fi
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt=(apt-get); elif sudo -n true 2>/dev/null; then apt=(sudo apt-get); else apt=(); fi
  if [ ${#apt[@]} -eq 0 ]; then
    echo "test-deps: missing ${need_apt[*]}; install them with: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "test-deps: installing ${need_apt[*]} (Debian packages)" >&2
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${need_apt[@]}" >/dev/null
fi

# The npm peers, exactly as locked. Re-install when the lock file changed since the last install.
stamp=testdata/node/node_modules/.lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s testdata/node/package-lock.json "$stamp"; then
  echo "test-deps: npm ci in testdata/node" >&2
  (cd testdata/node && npm ci --no-audit --no-fund --loglevel=error)
  cp testdata/node/package-lock.json "$stamp"
fi

# The Python samples' libraries (identity with Flask and Django, MSAL Python), exactly as locked
# with hashes, in a venv of their own under the test tree. Re-installed when the lock changed.
venv=testdata/python/.venv
pystamp=$venv/.lock-stamp
if [ ! -f "$pystamp" ] || ! cmp -s testdata/python/requirements.lock "$pystamp"; then
  echo "test-deps: pip install --require-hashes into $venv" >&2
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r testdata/python/requirements.lock
  "$venv/bin/python" -m pip check -q >/dev/null
  cp testdata/python/requirements.lock "$pystamp"
fi
