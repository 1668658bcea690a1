#!/usr/bin/env bash
# Profiles the benchmark and compares it with the committed baseline, as the CI job does.
#   ./check.sh                       the code as it is: passes
#   ./check.sh --inject-regression   count_words() made ~3x slower: fails, naming it
# Writes head.pyspy.json (this run), diff.svg (differential flame graph) and diff.md (the table).
# PYTHON picks the interpreter (default python3); PYSPY the profiler command (default: this
# checkout's CLI when built, else `npx pyspy-ts`).
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--inject-regression" ]; then
  export TEXTSTATS_SLOW=1
fi
PYTHON=${PYTHON:-python3}
if [ -z "${PYSPY:-}" ]; then
  if [ -f ../../packages/cli/dist/cli.js ]; then PYSPY="node ../../packages/cli/dist/cli.js"; else PYSPY="npx pyspy-ts"; fi
fi

# Same rate and length as the baseline: 5 s at 200 Hz is about 1,000 samples.
$PYSPY record --format json -o head.pyspy.json --rate 200 --hide-progress -- "$PYTHON" bench.py 5

# Unchanged code moved up to ~7 points between runs on a busy 2-core machine (see README.md),
# so the limits sit above that; a real slowdown of a hot function moves it by far more.
$PYSPY diff baseline.pyspy.json head.pyspy.json \
  --fail-on self:+10% --fail-on total:+15% \
  --format markdown -o diff.svg > diff.md && status=0 || status=$?
cat diff.md
exit "$status"
