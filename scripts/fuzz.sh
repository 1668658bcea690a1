#!/usr/bin/env bash
# A bounded coverage-guided fuzz pass of the stack walkers (crates/pyspy-core/fuzz, target
# `walkers`): libFuzzer mutates CPython memory images of every build (layouts::BUILDS). A panic, a hang
# (-timeout, seconds per input) or runaway memory (-rss_limit_mb) fails the run, and the input
# that did it is kept under .cache/fuzz-artifacts.
#
# Usage: scripts/fuzz.sh [SECONDS]   (default 60)
# Replay one input:  cd crates/pyspy-core/fuzz && cargo +nightly fuzz run --sanitizer none walkers FILE
# Minimise it:       cd crates/pyspy-core/fuzz && cargo +nightly fuzz tmin --sanitizer none walkers FILE
#
# The corpus grows in .cache/fuzz-corpus, so each run starts where the last one stopped; the
# committed seeds (crates/pyspy-core/fuzz/seeds/walkers: an intact image per build, and inputs
# that once crashed) are replayed every time.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
seconds="${1:-60}"

# cargo fuzz builds with -Zsanitizer, which only nightly accepts.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz.sh: no nightly Rust toolchain (cargo fuzz needs one): run 'rustup toolchain install nightly'" >&2
  exit 1
fi

# In the repository's .cache (ignored by git) rather than ~/.cargo: nothing lands outside the
# checkout, and CI has one directory to cache.
tools="$root/.cache/cargo-fuzz"
if [[ ! -x "$tools/bin/cargo-fuzz" ]]; then
  cargo install cargo-fuzz --locked --root "$tools"
fi
export PATH="$tools/bin:$PATH"

corpus="$root/.cache/fuzz-corpus/walkers"
artifacts="$root/.cache/fuzz-artifacts/walkers"
mkdir -p "$corpus" "$artifacts"
cd crates/pyspy-core/fuzz
# cargo fuzz has no --locked; this keeps the build on the committed lock file, as the workspace's
# tests are.
if ! cargo +nightly metadata --locked --format-version 1 >/dev/null; then
  echo "fuzz.sh: crates/pyspy-core/fuzz/Cargo.lock is out of date: run 'cargo update --workspace' there" >&2
  exit 1
fi
# No sanitizer: the walkers are safe Rust, so AddressSanitizer finds nothing the overflow checks
# (on by default in cargo fuzz) do not, and it cuts executions per second by 4-5 times.
# -max_len=512 -len_control=0: inputs are a 5-byte header then 12-byte patches, and libFuzzer
# would otherwise spend the first minute on inputs too short to hold more than one.
cargo +nightly fuzz run --sanitizer none walkers "$corpus" seeds/walkers -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=512 -len_control=0 \
  -artifact_prefix="$artifacts/" -print_final_stats=1
