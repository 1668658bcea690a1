#!/usr/bin/env bash
# Builds crates/pyspy-wasm for wasm32 and generates its JS glue (ES module, for Node and browsers
# alike) into crates/pyspy-wasm/pkg, which @pyspy/core's build copies into the package. The glue
# generator, wasm-bindgen's CLI, must be the exact version of the wasm-bindgen crate: it is built
# from crates.io once into the cache outside the clone (as the interpreters are), and reused.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' crates/pyspy-wasm/Cargo.toml)
[ -n "$VERSION" ] || { echo "build-wasm: no pinned wasm-bindgen version in crates/pyspy-wasm/Cargo.toml" >&2; exit 1; }
CACHE_ROOT=${PYSPY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pyspy-ts}
TOOL="$CACHE_ROOT/tools/wasm-bindgen-$VERSION"
mkdir -p "$CACHE_ROOT/tools"
if [ ! -x "$TOOL/bin/wasm-bindgen" ]; then
  exec 9>"$CACHE_ROOT/tools/.wasm-bindgen.lock"
  flock 9
  if [ ! -x "$TOOL/bin/wasm-bindgen" ]; then
    echo "build-wasm: building wasm-bindgen-cli $VERSION into $TOOL (once, a few minutes)" >&2
    # Not --locked: the CLI's own lock file names a webpki-roots release that crates.io no
    # longer serves; the resolver picks the newest compatible one instead.
    nice -n 10 cargo install wasm-bindgen-cli --version "$VERSION" --root "$TOOL" --quiet
  fi
fi

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build -p pyspy-wasm --target wasm32-unknown-unknown --release --locked
rm -rf crates/pyspy-wasm/pkg
"$TOOL/bin/wasm-bindgen" --target web --out-dir crates/pyspy-wasm/pkg "$TARGET_DIR/wasm32-unknown-unknown/release/pyspy_wasm.wasm"
