import { PyspyError, type PyspyErrorCode } from '@pyspy/core';

/**
 * Exit codes, one per kind of failure, so scripts can tell them apart: the one table that `fail`
 * and the `--help` text go by. Every error code must have a row (the type says so).
 */
export const EXIT_CODES: Record<PyspyErrorCode, { exitCode: number; meaning: string }> = {
  PYSPY_INVALID_ARGUMENT: { exitCode: 2, meaning: 'bad arguments' },
  PYSPY_NO_SUCH_PROCESS: { exitCode: 3, meaning: 'no such process' },
  PYSPY_PERMISSION_DENIED: { exitCode: 4, meaning: 'permission denied' },
  PYSPY_NOT_PYTHON: { exitCode: 5, meaning: 'not a Python process' },
  PYSPY_UNSUPPORTED_VERSION: { exitCode: 6, meaning: 'unsupported Python version' },
  PYSPY_PROCESS_EXITED: { exitCode: 7, meaning: 'process exited' },
  PYSPY_READ_FAILED: { exitCode: 8, meaning: 'could not read the process' },
  PYSPY_NO_NATIVE_ADDON: { exitCode: 9, meaning: 'the native addon cannot load here' },
  PYSPY_EMPTY_CORE: { exitCode: 10, meaning: 'empty core file' },
  PYSPY_NOT_A_CORE: { exitCode: 11, meaning: 'not a core file' },
  PYSPY_TRUNCATED_CORE: { exitCode: 12, meaning: 'truncated core file' },
  PYSPY_UNSUPPORTED_ARCHITECTURE: { exitCode: 13, meaning: 'core of an unsupported architecture' },
  PYSPY_MISSING_BINARY: { exitCode: 14, meaning: 'a binary the core needs is missing' },
};

/** Exit code of anything unexpected (a bug, or an error from outside pyspy-ts). */
const UNEXPECTED = 1;

export const EXIT_CODES_HELP = `Exit codes: 0 ok, ${UNEXPECTED} unexpected error, ${Object.values(EXIT_CODES)
  .sort((a, b) => a.exitCode - b.exitCode)
  .map(({ exitCode, meaning }) => `${exitCode} ${meaning}`)
  .join(', ')}.`;

/** One line to stderr and the matching exit code: never a stack trace for an expected failure. */
export function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\n`);
  process.exit(error instanceof PyspyError ? EXIT_CODES[error.code].exitCode : UNEXPECTED);
}
