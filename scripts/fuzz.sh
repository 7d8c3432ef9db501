#!/usr/bin/env bash
# Runs every Go fuzz target briefly (FUZZTIME each, default 5s) with its seed corpus, so the
# targets cannot rot and CI explores a little on every run. A failing input is written under the
# package's testdata/fuzz/ by go test: commit it as a regression seed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v node_modules | while read -r f; do
  pkg=./$(dirname "${f#./}")
  grep -oE '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r target; do
    echo "fuzz: $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
  done
done
