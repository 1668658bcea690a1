import { describe, expect, it } from 'vitest';
import { foldStacks, frameLabel, renderCollapsed } from '../src/index.js';
import { buildProfile, emptyProfile, frame, main, parse, unicodeProfile, work } from './fixtures.js';

describe('collapsed stacks', () => {
  it('labels frames like py-spy, with and without a line number', () => {
    expect(frameLabel(frame('f', 'a.py', 3))).toBe('f (a.py:3)');
    expect(frameLabel(frame('f', 'a.py', 0))).toBe('f (a.py)');
  });

  it('writes one sorted line per distinct stack, root first', () => {
    expect(renderCollapsed(unicodeProfile())).toBe(
      [
        'main (app.py:10);parse (app.py:30) 20',
        'main (app.py:10);work (app.py:20) 20',
        'main (app.py:10);work (app.py:20);función_ñandú (módulo.py:7) 30',
        'main (app.py:10);関数 (🐍/ヘビ.py:3);función_ñandú (módulo.py:7) 10',
        '',
      ].join('\n'),
    );
  });

  it('adds up stacks that differ only by thread, unless threads are kept', () => {
    const threads = [
      { id: 1, name: 'MainThread', pid: 9 },
      { id: 2, name: 'worker', pid: 9 },
    ];
    const profile = buildProfile(
      [
        { frames: [main, work], count: 2, thread: 0 },
        { frames: [main, work], count: 5, thread: 1 },
        { frames: [main, parse], count: 1, thread: 1 },
      ],
      { threads },
    );
    expect([...foldStacks(profile)]).toEqual([
      ['main (app.py:10);work (app.py:20)', 7],
      ['main (app.py:10);parse (app.py:30)', 1],
    ]);
    expect(renderCollapsed(profile, { threads: true })).toBe(
      'thread MainThread (tid 1);main (app.py:10);work (app.py:20) 2\n' +
        'thread worker (tid 2);main (app.py:10);parse (app.py:30) 1\n' +
        'thread worker (tid 2);main (app.py:10);work (app.py:20) 5\n',
    );
  });

  it('is empty for a profile without samples', () => {
    expect(renderCollapsed(emptyProfile())).toBe('');
  });
});
