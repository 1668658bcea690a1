import type { DumpOptions, ProcessDump } from '@pyspy/napi';
import { toPyspyError, validatePid } from './errors.js';
import { warnIfOwnChild } from './launch.js';
import { native } from './native.js';

// The shapes are the Rust binding's (napi-rs writes them, with their docs, into @pyspy/napi's
// index.d.ts): written once, never cast.
export type { DumpOptions, FrameDump, LocalVariable, ProcessDump, ThreadDump } from '@pyspy/napi';

/** Every thread's Python stack of process `pid`, now. Nothing runs in the target. */
export async function dump(pid: number, options: DumpOptions = {}): Promise<ProcessDump> {
  validatePid(pid);
  warnIfOwnChild(pid, options.nonblocking ?? false);
  try {
    return await native().dump(pid, options);
  } catch (error) {
    throw toPyspyError(error);
  }
}
