import { describe, expect, it } from 'vitest';
import { formatDump } from '../src/commands/dump.js';

const result = {
  pid: 42,
  pythonVersion: '3.14.0',
  freeThreaded: false,
  executable: '/usr/bin/python3.14',
  commandLine: ['python3', 'app.py'],
  threads: [
    {
      nativeThreadId: 42,
      pythonThreadId: 1,
      name: 'MainThread',
      active: true,
      ownsGil: true,
      frames: [
        {
          name: 'inner',
          filename: '/srv/app.py',
          shortFilename: 'app.py',
          line: 7,
          locals: [
            { name: 'n', repr: '3', isArg: true },
            { name: 'total', repr: '<list>', isArg: false },
          ],
        },
        { name: '<module>', filename: '/srv/app.py', shortFilename: 'app.py', line: 12 },
      ],
    },
    { nativeThreadId: 43, pythonThreadId: 2, active: false, ownsGil: false, frames: [] },
  ],
};

describe("dump's text layout", () => {
  it("follows py-spy's: header, threads with status and name, frames innermost first, arguments and locals", () => {
    expect(formatDump(result)).toBe(
      [
        'Process 42: python3 app.py',
        'Python v3.14.0 (/usr/bin/python3.14)',
        '',
        'Thread 42 (active+gil): "MainThread"',
        '    inner (app.py:7)',
        '        Arguments:',
        '            n: 3',
        '        Locals:',
        '            total: <list>',
        '    <module> (app.py:12)',
        'Thread 43 (idle)',
        '',
      ].join('\n'),
    );
  });

  it('says so of a free-threaded build, whose threads never show +gil while its GIL is off', () => {
    const freeThreaded = { ...result, freeThreaded: true, threads: result.threads.map((t) => ({ ...t, ownsGil: false })) };
    const text = formatDump(freeThreaded);
    expect(text).toContain('Python v3.14.0 free-threaded (/usr/bin/python3.14)');
    expect(text).not.toContain('+gil');
  });

  it('shows full paths when asked', () => {
    expect(formatDump(result, true)).toContain('    inner (/srv/app.py:7)');
  });
});
