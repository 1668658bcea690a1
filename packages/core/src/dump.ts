import { native } from './native.js';
import { toPyspyError, validatePid } from './errors.js';
import { warnIfOwnChild } from './launch.js';

export interface LocalVariable {
  name: string;
  /** Short repr of None/bool/int/float/str/bytes; `<TypeName>` for anything else. */
  repr: string;
  isArg: boolean;
}

export interface FrameDump {
  /** Qualified name (`Class.method`) where CPython has one (3.11+), else the function name. */
  name: string;
  filename: string;
  /** The path as people read it: after site-packages or the stdlib directory, or relative to the target's cwd. */
  shortFilename: string;
  /** 0 when unknown. */
  line: number;
  locals?: LocalVariable[];
}

export interface ThreadDump {
  /** Kernel thread id (TID); 0 when it could not be mapped. */
  nativeThreadId: number;
  /** `threading.get_ident()`. */
  pythonThreadId: number;
  name?: string;
  /** Running or runnable, as opposed to sleeping or waiting. */
  active: boolean;
  ownsGil: boolean;
  /** Innermost frame first. */
  frames: FrameDump[];
}

export interface ProcessDump {
  pid: number;
  pythonVersion: string;
  executable: string;
  commandLine: string[];
  threads: ThreadDump[];
}

export interface DumpOptions {
  /** Also read each frame's local variables. Default false. */
  locals?: boolean;
  /** Pause the process while reading, for a consistent picture. Default true. */
  blocking?: boolean;
}

/** Every thread's Python stack of process `pid`, now. Nothing runs in the target. */
export async function dump(pid: number, options: DumpOptions = {}): Promise<ProcessDump> {
  validatePid(pid);
  warnIfOwnChild(pid, options.blocking ?? true);
  try {
    const result = await native().dump(pid, { locals: options.locals ?? false, blocking: options.blocking ?? true });
    return result as ProcessDump;
  } catch (error) {
    throw toPyspyError(error);
  }
}
