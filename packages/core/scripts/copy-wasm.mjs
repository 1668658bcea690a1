// Ships the WASM build (crates/pyspy-wasm, built first by turbo) inside this package, in wasm/:
// the .wasm as wasm-bindgen made it, for browsers and bundlers, and a brotli copy, which is what
// Node reads (src/wasm.ts) and all the CLI ships: 0.13 MB instead of 0.45 MB of the 3 MB an
// `npm i pyspy-ts` may take, for ~3 ms of decompression on the first core read.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

const from = new URL('../../../crates/pyspy-wasm/pkg/', import.meta.url);
const to = new URL('../wasm/', import.meta.url);
const files = ['pyspy_wasm.js', 'pyspy_wasm.d.ts', 'pyspy_wasm_bg.wasm', 'pyspy_wasm_bg.wasm.d.ts'];
for (const file of files) {
  if (!existsSync(new URL(file, from))) {
    console.error(`copy-wasm: ${new URL(file, from).pathname} is missing: build @pyspy/wasm first (turbo run build does)`);
    process.exit(1);
  }
}
rmSync(to, { recursive: true, force: true });
mkdirSync(to);
for (const file of files) cpSync(new URL(file, from), new URL(file, to));
const wasm = readFileSync(new URL('pyspy_wasm_bg.wasm', to));
const brotli = brotliCompressSync(wasm, {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
    [constants.BROTLI_PARAM_SIZE_HINT]: wasm.length,
  },
});
writeFileSync(new URL('pyspy_wasm_bg.wasm.br', to), brotli);
