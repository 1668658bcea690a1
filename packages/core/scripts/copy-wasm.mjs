// Ships the WASM build (crates/pyspy-wasm, built first by turbo) inside this package, in wasm/.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';

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
