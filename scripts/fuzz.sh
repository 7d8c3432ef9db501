#!/usr/bin/env bash
# Runs every Go fuzz target briefly (FUZZTIME each, default 5s) with its seed corpus, so the
# targets cannot rot and CI explores a little on every run. A failing input is written under the
# package's testdata/fuzz/ by go test: commit it as a regression seed.
# FUZZ_REPORT=FILE also writes one line per target: package, target, seconds, executions and the
# corpus size at the end (seeds plus what this machine's cache has found), for RELIABILITY.md
# (make reliability).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
report=${FUZZ_REPORT:-}
if [ -n "$report" ]; then mkdir -p "$(dirname "$report")" && : > "$report"; fi
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v node_modules | sort | while read -r f; do
  pkg=./$(dirname "${f#./}")
  grep -oE '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r target; do
    echo "fuzz: $pkg $target ($fuzztime)"
    start=$(date +%s)
    # Go's fuzzing coordinator can fail a run with a bare "context deadline exceeded" when
    # -fuzztime ends while a starved worker is mid-call (golang/go#51484, #75804): no input is
    # written, nothing is found. A real finding always writes one ("Failing input written to")
    # or panics. So a bare deadline failure is tried again, twice, and only then reported as a
    # flake; any other failure fails at once.
    tries=0
    while :; do
      tries=$((tries + 1))
      if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then break; fi
      if echo "$out" | grep -q 'context deadline exceeded' && ! echo "$out" | grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:'; then
        if [ "$tries" -lt 3 ]; then echo "  (the fuzzing engine's deadline race, no input found: trying again)"; continue; fi
        echo "  warning: $target hit the fuzzing engine's deadline race $tries times, with no failing input; not a finding"
        break
      fi
      echo "$out"; exit 1
    done
    last=$(echo "$out" | grep -E '^fuzz: elapsed:.*execs:' | tail -1 || true)
    echo "  ${last:-$out}"
    if [ -n "$report" ]; then
      execs=$(echo "$last" | sed -nE 's/.*execs: ([0-9]+).*/\1/p')
      corpus=$(echo "$last" | sed -nE 's/.*\(total: ([0-9]+)\).*/\1/p')
      echo "$pkg $target $(( $(date +%s) - start )) ${execs:-0} ${corpus:-0}" >> "$report"
    fi
  done
done
