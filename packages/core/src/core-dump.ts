import type { CoreDumpOptions, ProcessDump } from '@pyspy/napi';
import { offlineBackend } from './backend.js';
import { InvalidArgumentError, toPyspyError } from './errors.js';
import { dumpCoreWasm } from './wasm.js';

export type { CoreDumpOptions } from '@pyspy/napi';

/**
 * Every thread's Python stack in an ELF core file (the kernel's, or gdb's `gcore`), as `dump`
 * would have shown it at the moment the core was written. `core` is a path or the core's bytes.
 * Runs on the native addon where it loads and on WASM elsewhere (`PYSPY_BACKEND=wasm` forces it);
 * either way the core is read in pieces, never whole.
 */
export async function dumpCore(core: string | Uint8Array, options: CoreDumpOptions = {}): Promise<ProcessDump> {
  if (typeof core !== 'string' && !(core instanceof Uint8Array)) {
    throw new InvalidArgumentError('dumpCore needs a core file path or its bytes (a Uint8Array)');
  }
  const binaries = options.binaries ?? [];
  if (!Array.isArray(binaries) || binaries.some((b) => typeof b !== 'string')) {
    throw new InvalidArgumentError('binaries must be a list of file paths');
  }
  try {
    const backend = offlineBackend();
    if (backend.kind === 'native') return await backend.addon.dumpCore(core, { ...options, binaries });
    return await dumpCoreWasm(core, binaries, options.locals ?? false, options.async ?? false);
  } catch (error) {
    throw toPyspyError(error);
  }
}
