#!/usr/bin/env bash
# The cheap first step of every test run: formatting, lints and types, in seconds once built, so
# that a slip fails before the slow tests start. Also that the OS-free core still builds for WASM.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
(cd crates/pyspy-core/fuzz && cargo fmt --check)
# The fuzz crate has its own lock file, which falls behind silently whenever pyspy-core's
# dependencies change; catch that here rather than minutes later in fuzz.sh.
(cd crates/pyspy-core/fuzz && cargo metadata --locked --format-version 1 >/dev/null) || {
  echo "check.sh: crates/pyspy-core/fuzz/Cargo.lock is out of date: run 'cargo update --workspace' there" >&2
  exit 1
}
pnpm exec biome check .
cargo clippy --workspace --all-targets --locked -- -D warnings
# pyspy-core must stay free of the operating system: no libc, no /proc, no ptrace.
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo build -p pyspy-core --target wasm32-unknown-unknown --locked

# Types, the packages' tests included (vitest itself does not type-check). Each package's types
# come from the ones it depends on, so this needs the build (turbo skips what is up to date).
pnpm exec turbo run build
for dir in packages/core packages/cli packages/render; do
  pnpm exec tsc -p "$dir/test"
done
pnpm exec tsc -p tests
