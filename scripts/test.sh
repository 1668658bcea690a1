#!/usr/bin/env bash
# Every test: Rust unit tests, then the TS packages and the end-to-end tests against every
# provisioned CPython. A missing interpreter or system dependency fails the run; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh
bash scripts/provision-pythons.sh
pnpm exec turbo run build
cargo test --workspace --locked
pnpm exec turbo run test --concurrency=1
