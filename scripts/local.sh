#!/usr/bin/env bash
# Sets up what is missing, then runs shardgate in front of a local fleet of
# pushgateways: scripts/local.sh [--shards=N] [--data.dir=DIR] [more flags]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec node dist/src/main.js local "$@"
