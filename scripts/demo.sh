#!/usr/bin/env bash
# The main job, end to end: start examples/threadpools.py and dump every thread's stack.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 examples/threadpools.py --seconds 5 &
target=$!
trap 'kill $target 2>/dev/null || true' EXIT
sleep 1
./node_modules/.bin/pyspy-ts dump --pid "$target"
