/**
 * `dump` against real interpreters: every thread's name and frames must equal what CPython itself
 * reports (threading.current_thread().name and sys._current_frames, written by the target),
 * exactly: function, file and line.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { dump } from '@pyspy/core';
import { interpreters, threadStates, isRunning, runCli, type StartedTarget } from './helpers.js';
import { frames, startParked, type Truth, type TruthFrame } from './parked.js';

for (const interp of interpreters()) {
  describe(`dump on ${interp.id} (${interp.version}${interp.debug ? ', debug build' : ''})`, () => {
    let target: StartedTarget;
    let truth: Truth;
    beforeAll(async () => {
      ({ target, truth } = await startParked(interp));
    }, 120_000);
    afterAll(() => target?.child.kill('SIGKILL'));

    it('reports the version the interpreter reports, and whether it is free-threaded', async () => {
      const result = await dump(target.pid);
      expect(result.pythonVersion).toBe(truth.version);
      expect(result.freeThreaded).toBe(interp.freeThreaded);
      // With the GIL off, no thread holds it: a stale holder must not show.
      if (interp.freeThreaded) expect(result.threads.filter((t) => t.ownsGil)).toEqual([]);
    });

    it('matches every thread by its Python name and frame by frame, innermost first: names, files, lines', async () => {
      const result = await dump(target.pid);
      expect(result.threads).toHaveLength(truth.threads.length);
      for (const expected of truth.threads) {
        const actual = result.threads.find((t) => t.nativeThreadId === expected.native_id);
        expect(actual, `thread ${expected.name} (TID ${expected.native_id})`).toBeDefined();
        expect(actual!.pythonThreadId).toBe(expected.ident);
        expect(actual!.name).toBe(expected.name);
        expect(frames(actual!.frames)).toEqual(expected.frames);
      }
    });

    it('follows a 200-deep recursion to the bottom', async () => {
      const result = await dump(target.pid);
      const deep = truth.threads.find((t) => t.name === 'deep-recursion')!;
      const actual = result.threads.find((t) => t.nativeThreadId === deep.native_id)!;
      expect(actual.frames.filter((f) => f.name === 'recurse')).toHaveLength(201);
    });

    it('reads non-ASCII function and file names (Latin-1, CJK, emoji)', async () => {
      const result = await dump(target.pid);
      const names = result.threads.flatMap((t) => t.frames.map((f) => f.name));
      const files = result.threads.flatMap((t) => t.frames.map((f) => f.filename));
      expect(names).toContain('función_ñandú');
      expect(names).toContain('関数');
      expect(files.some((f) => f.endsWith('paquete_ü/archivo_🐍.py'))).toBe(true);
    });

    it('shows locals with short reprs of simple values and previews of containers', async () => {
      const result = await dump(target.pid, { locals: true });
      const frame = result.threads.flatMap((t) => t.frames).find((f) => f.name === 'with_locals')!;
      const locals = Object.fromEntries(frame.locals!.map((l) => [l.name, l.repr]));
      // Python 2's str is bytes, shown as Python 2 shows it (the source is UTF-8).
      const python2 = interp.minor.startsWith('2.');
      expect(locals).toMatchObject({
        count: '7',
        label: python2 ? "'\\xc3\\xbcn\\xc3\\xaf'" : "'ünï'",
        text: `'it\\'s "quoted"'`,
        data: python2 ? "'\\x00ab'" : "b'\\x00ab'",
        big: '-12345678901',
        ratio: '2.5',
        flag: 'True',
        nothing: 'None',
        items: '[1, 2]',
      });
      expect(frame.locals!.filter((l) => l.isArg).map((l) => l.name)).toEqual(['count', 'label']);
    });

    it("previews containers, big ints and objects as the target's own reprlib-style previews do", async () => {
      const result = await dump(target.pid, { locals: true });
      const frame = result.threads.flatMap((t) => t.frames).find((f) => f.name === 'with_previews')!;
      const shown = Object.fromEntries(frame.locals!.map((l) => [l.name, l.repr]));
      if (interp.minor.startsWith('2.')) {
        // The target's own previews are Python 3's (reprlib); 2.7's containers are shown in
        // Python 3's notation, its bignums as longs.
        expect(truth.previews).toEqual({});
        expect(shown).toMatchObject({
          empty_tuple: '()',
          single: '(1,)',
          numbers: '[0, 1, 2, 3, 4, 5, ...+94]',
          big: '1000000000000000000000000000000L',
          nothing: 'set()',
          no_frozen: 'frozenset()',
        });
        return;
      }
      expect(Object.keys(truth.previews).length).toBeGreaterThan(15);
      for (const [name, preview] of Object.entries(truth.previews)) expect(shown[name], name).toBe(preview);
    });

    it('leaves the target running, not stopped', async () => {
      await dump(target.pid);
      expect(threadStates(target.pid).filter((s) => s === 'T' || s === 't')).toEqual([]);
      expect(isRunning(target.pid)).toBe(true);
      expect(target.child.hasExited()).toBe(false);
    });

    it('reads the same stacks without pausing (--nonblocking)', async () => {
      const result = await dump(target.pid, { nonblocking: true });
      const main = truth.threads.find((t) => t.name === 'MainThread')!;
      expect(frames(result.threads.find((t) => t.nativeThreadId === main.native_id)!.frames)).toEqual(main.frames);
    });

    it('prints py-spy style text and JSON from the CLI', () => {
      const text = runCli(['dump', '--pid', String(target.pid)]);
      expect(text.stderr).toBe('');
      expect(text.status).toBe(0);
      expect(text.stdout).toContain(`Python v${truth.version}`);
      const main = truth.threads.find((t) => t.name === 'MainThread')!;
      expect(text.stdout).toMatch(new RegExp(`Thread ${main.native_id} \\((idle|active)[^)]*\\)`));
      expect(text.stdout).toMatch(/^ {4}park \(.*parked_threads\.py:\d+\)$/m);
      const json = runCli(['dump', '--pid', String(target.pid), '--json']);
      expect(json.status).toBe(0);
      const parsed = JSON.parse(json.stdout) as { threads: { frames: TruthFrame[] }[] };
      expect(parsed.threads).toHaveLength(truth.threads.length);
    });
  });
}
