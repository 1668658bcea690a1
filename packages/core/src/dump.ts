import type { DumpOptions, ProcessDump } from '@pyspy/napi';
import { toPyspyError, validatePid } from './errors.js';
import { warnIfOwnChild } from './launch.js';
import { native } from './native.js';

// The shapes are the Rust binding's (napi-rs writes them, with their docs, into @pyspy/napi's
// index.d.ts): written once, never cast.
export type { DumpOptions, FrameDump, LocalVariable, LoopDump, ProcessDump, TaskDump, ThreadDump } from '@pyspy/napi';

/**
 * Every thread's stack of process `pid`, now (with `native`, its native frames merged in; with `subprocesses`, of its Python
 * descendants too; with `threadName`/`tid`, of the threads kept only; with `async`, every asyncio event loop's tasks).
 * Nothing runs in the target.
 */
export async function dump(pid: number, options: DumpOptions = {}): Promise<ProcessDump> {
  validatePid(pid);
  warnIfOwnChild(pid, options.nonblocking ?? false);
  try {
    return await native().dump(pid, options);
  } catch (error) {
    throw toPyspyError(error);
  }
}
