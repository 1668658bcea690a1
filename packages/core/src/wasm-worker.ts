// The worker thread of `dumpCoreWasm` (wasm.ts): reads one core and posts the outcome back.
import { parentPort, workerData } from 'node:worker_threads';
import { dumpCoreHere, type WorkerOutcome } from './wasm.js';

const { core, binaries, locals, asyncio } = workerData as {
  core: string | Uint8Array;
  binaries: string[];
  locals: boolean;
  asyncio: boolean;
};
// In a function, not at the top level: the CLI bundles this file as CommonJS, which has no
// top-level await.
async function run(): Promise<WorkerOutcome> {
  try {
    return { dump: await dumpCoreHere(core, binaries, locals, asyncio) };
  } catch (error) {
    const e = error as Error & { code?: unknown };
    return { error: { message: e.message ?? String(error), code: typeof e.code === 'string' ? e.code : undefined } };
  }
}
void run().then((outcome) => parentPort?.postMessage(outcome));
