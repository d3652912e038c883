#!/usr/bin/env bash
# Sets up everything the suite needs, then runs the whole suite (unit and
# integration, against real pushgateways and a real Prometheus).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
exec node --test --test-concurrency=1 dist/test/
