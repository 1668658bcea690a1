// The worker thread of `dumpCoreWasm` (wasm.ts): reads one core and posts the outcome back.
import { parentPort, workerData } from 'node:worker_threads';
import { dumpCoreHere, type WorkerOutcome } from './wasm.js';

const { core, binaries, locals } = workerData as { core: string | Uint8Array; binaries: string[]; locals: boolean };
let outcome: WorkerOutcome;
try {
  outcome = { dump: await dumpCoreHere(core, binaries, locals) };
} catch (error) {
  const e = error as Error & { code?: unknown };
  outcome = { error: { message: e.message ?? String(error), code: typeof e.code === 'string' ? e.code : undefined } };
}
parentPort?.postMessage(outcome);
