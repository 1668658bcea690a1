import { describe, expect, it } from 'vitest';
import { ERROR_CODES, InvalidArgumentError, NotPythonError, PyspyError, toPyspyError, validatePid } from '../src/errors.js';

describe('errors from the native core become typed errors', () => {
  it('maps a known code to its class, keeping the message and the cause', () => {
    const native = Object.assign(new Error('process 1 (/bin/sleep) is not a Python process'), { code: 'PYSPY_NOT_PYTHON' });
    const error = toPyspyError(native);
    expect(error).toBeInstanceOf(NotPythonError);
    expect(error).toBeInstanceOf(PyspyError);
    expect((error as NotPythonError).code).toBe('PYSPY_NOT_PYTHON');
    expect((error as Error).message).toBe(native.message);
    expect((error as Error).name).toBe('NotPythonError');
    expect((error as Error).cause).toBe(native);
  });

  it('leaves errors without one of its codes alone', () => {
    const unknown = Object.assign(new Error('x'), { code: 'PYSPY_SOMETHING_NEW' });
    expect(toPyspyError(unknown)).toBe(unknown);
    const other = new TypeError('nope');
    expect(toPyspyError(other)).toBe(other);
  });

  it('knows exactly the codes the native core can send', async () => {
    const { native } = await import('../src/native.js');
    expect([...native().errorCodes()].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('refuses PIDs that are not positive integers', () => {
    for (const pid of [0, -1, 1.5, Number.NaN, 2 ** 31, '12']) {
      expect(() => validatePid(pid)).toThrow(InvalidArgumentError);
    }
    expect(validatePid(1234)).toBe(1234);
  });
});
