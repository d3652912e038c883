#!/usr/bin/env bash
# Sets up everything the suite needs, then runs the whole suite (unit and
# integration, against real pushgateways and a real Prometheus).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
# Test files only: dist/test/ also holds support code and the simulation's runner.
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
exec node --test --test-concurrency=1 "${files[@]}"
