/**
 * Typed errors. The native core rejects with an `Error` whose `code` is stable across releases;
 * `toPyspyError` turns it into the matching class so callers can `instanceof` or switch on `code`.
 */

/** Every code a failure can carry: a closed list (a test checks it against the native core's). */
export const ERROR_CODES = [
  'PYSPY_NO_SUCH_PROCESS',
  'PYSPY_PERMISSION_DENIED',
  'PYSPY_NOT_PYTHON',
  'PYSPY_UNSUPPORTED_VERSION',
  'PYSPY_PROCESS_EXITED',
  'PYSPY_READ_FAILED',
  'PYSPY_INVALID_ARGUMENT',
  'PYSPY_EMPTY_CORE',
  'PYSPY_NOT_A_CORE',
  'PYSPY_TRUNCATED_CORE',
  'PYSPY_UNSUPPORTED_ARCHITECTURE',
  'PYSPY_MISSING_BINARY',
] as const;
/** Codes raised in JS, where the native core is not reached. */
export const JS_ERROR_CODES = ['PYSPY_NO_NATIVE_ADDON'] as const;
export type PyspyErrorCode = (typeof ERROR_CODES)[number] | (typeof JS_ERROR_CODES)[number];

export class PyspyError extends Error {
  readonly code: PyspyErrorCode;
  constructor(code: PyspyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

type ErrorOptions = { cause?: unknown };

/** One subclass per code, so callers can `instanceof` the failure they care about. */
function withCode(code: PyspyErrorCode) {
  return class extends PyspyError {
    constructor(message: string, options?: ErrorOptions) {
      super(code, message, options);
    }
  };
}

export class ProcessNotFoundError extends withCode('PYSPY_NO_SUCH_PROCESS') {}
export class PermissionDeniedError extends withCode('PYSPY_PERMISSION_DENIED') {}
export class NotPythonError extends withCode('PYSPY_NOT_PYTHON') {}
export class UnsupportedVersionError extends withCode('PYSPY_UNSUPPORTED_VERSION') {}
export class ProcessExitedError extends withCode('PYSPY_PROCESS_EXITED') {}
export class ReadFailedError extends withCode('PYSPY_READ_FAILED') {}
export class InvalidArgumentError extends withCode('PYSPY_INVALID_ARGUMENT') {}
/** The native addon cannot load here: another platform, too old a glibc, its package left out. */
export class NativeAddonError extends withCode('PYSPY_NO_NATIVE_ADDON') {}
export class EmptyCoreError extends withCode('PYSPY_EMPTY_CORE') {}
export class NotACoreError extends withCode('PYSPY_NOT_A_CORE') {}
export class TruncatedCoreError extends withCode('PYSPY_TRUNCATED_CORE') {}
export class UnsupportedArchitectureError extends withCode('PYSPY_UNSUPPORTED_ARCHITECTURE') {}
export class MissingBinaryError extends withCode('PYSPY_MISSING_BINARY') {}

const classes: Record<PyspyErrorCode, new (message: string, options?: ErrorOptions) => PyspyError> = {
  PYSPY_NO_SUCH_PROCESS: ProcessNotFoundError,
  PYSPY_PERMISSION_DENIED: PermissionDeniedError,
  PYSPY_NOT_PYTHON: NotPythonError,
  PYSPY_UNSUPPORTED_VERSION: UnsupportedVersionError,
  PYSPY_PROCESS_EXITED: ProcessExitedError,
  PYSPY_READ_FAILED: ReadFailedError,
  PYSPY_INVALID_ARGUMENT: InvalidArgumentError,
  PYSPY_NO_NATIVE_ADDON: NativeAddonError,
  PYSPY_EMPTY_CORE: EmptyCoreError,
  PYSPY_NOT_A_CORE: NotACoreError,
  PYSPY_TRUNCATED_CORE: TruncatedCoreError,
  PYSPY_UNSUPPORTED_ARCHITECTURE: UnsupportedArchitectureError,
  PYSPY_MISSING_BINARY: MissingBinaryError,
};

function isErrorCode(code: string): code is PyspyErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** Maps an error from the native core to its typed class; anything else is returned unchanged. */
export function toPyspyError(error: unknown): unknown {
  if (error instanceof PyspyError) return error;
  if (error instanceof Error && typeof (error as Error & { code?: unknown }).code === 'string') {
    const code = (error as Error & { code: string }).code;
    if (isErrorCode(code)) return new classes[code](error.message, { cause: error });
  }
  return error;
}

export function validatePid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
    throw new InvalidArgumentError(`invalid PID ${String(pid)}: expected a positive integer`);
  }
  return pid;
}
