import { PyspyError } from '@pyspy/core';

/** Exit codes, one per kind of failure, so scripts can tell them apart. Listed in `--help`. */
export const EXIT_CODES: Record<string, number> = {
  PYSPY_INVALID_ARGUMENT: 2,
  PYSPY_NO_SUCH_PROCESS: 3,
  PYSPY_PERMISSION_DENIED: 4,
  PYSPY_NOT_PYTHON: 5,
  PYSPY_UNSUPPORTED_VERSION: 6,
  PYSPY_PROCESS_EXITED: 7,
  PYSPY_READ_FAILED: 8,
  PYSPY_NO_NATIVE_ADDON: 9,
};

export const EXIT_CODES_HELP = [
  'Exit codes: 0 ok, 1 unexpected error, 2 bad arguments, 3 no such process,',
  '4 permission denied, 5 not a Python process, 6 unsupported Python version,',
  '7 process exited, 8 could not read the process, 9 the native addon cannot load here.',
].join('\n');

/** One line to stderr and the matching exit code: never a stack trace for an expected failure. */
export function fail(error: unknown): never {
  if (error instanceof PyspyError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(EXIT_CODES[error.code] ?? 1);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}
