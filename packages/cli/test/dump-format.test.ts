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

const frame = (name: string, line: number) => ({ name, filename: `/srv/${name}.py`, shortFilename: `${name}.py`, line });
const task = (address: number, name: string, stack: ReturnType<typeof frame>[], awaitedBy: number[] = []) => ({
  address,
  name,
  defaultName: false,
  state: 'pending' as const,
  coroutineStack: stack,
  awaitedBy,
});

describe("dump --async's task tree", () => {
  const loop = {
    address: 1,
    loopType: '_UnixSelectorEventLoop',
    nativeThreadId: 42,
    runningTask: 12,
    tasks: [
      task(10, 'main', [frame('main', 5)]),
      task(11, 'h0', [frame('wait', 3), frame('handler', 9)], [13]),
      task(12, 'h1', [frame('handler', 9)], [13]),
      task(13, 'server', [frame('_aexit', 7), frame('server', 2)], [10]),
      { ...task(14, 'finished', []), state: 'done' as const },
      task(20, 'a', [frame('a', 1)], [21]),
      task(21, 'b', [frame('b', 1)], [20]),
    ],
  };

  it("is asyncio pstree's: frames outermost first, a task under its awaiter's frame, shared frames once", () => {
    const text = formatDump({ ...result, threads: [result.threads[0]], loops: [loop] });
    expect(text).toBe(
      [
        'Process 42: python3 app.py',
        'Python v3.14.0 (/usr/bin/python3.14)',
        '',
        'Thread 42 (active+gil): "MainThread"',
        '    Event loop _UnixSelectorEventLoop: 6 pending tasks, running h1',
        '    └── (T) main',
        '        └──  main main.py:5',
        '            └── (T) server',
        '                └──  server server.py:2',
        '                    └──  _aexit _aexit.py:7',
        '                        ├── (T) h0',
        '                        │   └──  handler handler.py:9',
        '                        │       └──  wait wait.py:3',
        '                        └── (T) h1',
        '                            └──  handler handler.py:9',
        '    └── (T) a',
        '        └──  a a.py:1',
        '            └── (T) b',
        '                └──  b b.py:1',
        '                    └── (T) a (awaits itself)',
        '    Done, still referenced: finished (done)',
        '',
      ].join('\n'),
    );
  });
});
