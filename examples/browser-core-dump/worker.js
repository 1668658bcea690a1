// Runs @pyspy/core's WASM build off the page's thread. FileReaderSync (workers only) lets the
// synchronous Rust side read the core in slices as it needs them: a core of several GiB is never
// in memory whole.
import init, { dumpCore } from './wasm/pyspy_wasm.js';

const ready = init();
const reader = new FileReaderSync();

const asWasmFile = (file) => ({
  name: file.name,
  size: file.size,
  read: (offset, length) => new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length))),
});

onmessage = async ({ data }) => {
  await ready;
  const started = performance.now();
  try {
    // No opener: a page cannot open the paths the core names; only the chosen binaries are used.
    const json = dumpCore(asWasmFile(data.core), data.binaries.map(asWasmFile), null, data.locals);
    postMessage({ ok: true, dump: JSON.parse(json), ms: Math.round(performance.now() - started) });
  } catch (error) {
    postMessage({ ok: false, code: error.code, message: error.message ?? String(error) });
  }
};
