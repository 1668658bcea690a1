#!/usr/bin/env bash
# Every test: Rust unit tests, then the TS packages and the end-to-end tests against every
# provisioned CPython. A missing interpreter or system dependency fails the run; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh
bash scripts/provision-pythons.sh
pnpm exec turbo run build
# A bounded fuzz pass: the property tests of crates/pyspy-core/tests (walkers against random and
# corrupted memory images) run 10,000 cases per property instead of their local 256: about 10 s
# on 2 cores. (cargo fuzz would need a nightly toolchain.)
PROPTEST_CASES=10000 cargo test --workspace --locked
pnpm exec turbo run test --concurrency=1
