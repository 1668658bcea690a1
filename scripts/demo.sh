#!/usr/bin/env bash
# The main job, end to end: launch examples/threadpools.py under the profiler, record it until it
# exits, and write an interactive flame graph to profile.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
./node_modules/.bin/pyspy-ts record -o profile.svg --rate 100 -- python3 examples/threadpools.py --seconds 5
echo "Open profile.svg in a browser: hover for details, click to zoom, Ctrl-F to search."
