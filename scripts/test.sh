#!/usr/bin/env bash
# Every test: the cheap checks first (formatting, lints, types, the WASM build of the core), then
# Rust unit and image tests, a minute of fuzzing, and the TS packages and the end-to-end tests
# against every provisioned CPython. A missing interpreter or system dependency fails the run;
# nothing is skipped. `pnpm test:unit` is the inner loop: no provisioning, no end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh
bash scripts/check.sh
bash scripts/provision-pythons.sh
# The property tests of crates/pyspy-core/tests (walkers against random memory) run 10,000 cases
# per property instead of their local 256: about 10 s on 2 cores.
PROPTEST_CASES=10000 cargo test --workspace --locked
# Then a minute of coverage-guided fuzzing (libFuzzer, nightly) of well-formed CPython images of
# every minor, patched: it checks intact images read back exactly, and that no corruption makes
# a walker panic, hang or grow without bound. It keeps its corpus in .cache between runs. About
# 65 s once cached; the first run also installs cargo-fuzz and builds the target: ~1 min 45 s.
bash scripts/fuzz.sh 60
pnpm exec turbo run test --concurrency=1
