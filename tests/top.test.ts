/**
 * `top` as a person sees it: in a real terminal (tmux), against a real target with a known hot
 * spot; keys do what the help says and the terminal is always given back. And as a log sees it,
 * when stdout is not a terminal.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  cliPath,
  isRunning,
  killAll,
  runCli,
  startCli,
  startPython,
  targetsDir,
  TmuxPane,
  waitFor,
  type Interpreter,
  interpreterById,
} from './helpers.js';

afterAll(killAll);

const interp: Interpreter = interpreterById('3.11-system');
const target = join(targetsDir, 'top_target.py');
/** The command line typed into the terminal, with the exit status printed after it. */
const topCommand = (args: string) => `${process.execPath} ${cliPath} top ${args}; echo "top exited $?"`;

interface Row {
  own: number;
  total: number;
  ownTime: number;
  totalTime: number;
  name: string;
  label: string;
}

/** The table rows below the column titles. */
function rows(lines: string[]): Row[] {
  const start = lines.findIndex((l) => /^\s*%Own\s+%Total\s+OwnTime\s+TotalTime\s+Function/.test(l));
  if (start < 0) return [];
  const parsed: Row[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\s*([\d.]+)%\s+([\d.]+)%\s+([\d.]+)s\s+([\d.]+)s\s+(\S+) \((.*)$/.exec(line);
    if (!m) break;
    parsed.push({ own: +m[1], total: +m[2], ownTime: +m[3], totalTime: +m[4], name: m[5], label: `${m[5]} (${m[6]}` });
  }
  return parsed;
}

/** A table with at least `minSamples` samples overall, as the header tells. */
function samplesShown(lines: string[]): number {
  const m = /(\d[\d,]*) samples in/.exec(lines.join('\n'));
  return m ? Number(m[1].replace(/,/g, '')) : 0;
}

/** The exit status `topCommand` printed, once top has exited. */
function exitStatus(lines: string[]): number | undefined {
  for (const line of lines) {
    const m = /^top exited (\d+)$/.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

async function waitForExit(pane: TmuxPane, timeoutMs?: number): Promise<{ status: number; screen: string[] }> {
  try {
    return await waitFor(
      'top to exit',
      () => {
        const screen = pane.screen();
        const status = exitStatus(screen);
        return status === undefined ? undefined : { status, screen };
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; the screen:\n${pane.screen().join('\n')}`);
  }
}

const stackRoots = new Set(['<module>', 'main', 'outer']);

describe('top in a terminal', () => {
  let pane: TmuxPane | undefined;
  afterEach(() => {
    pane?.kill();
    pane = undefined;
  });

  it('puts the hot function on top, reorders with the sort keys, and q exits 0 leaving a usable shell', async () => {
    const { pid, output } = await startPython(interp, [target]);
    await waitFor('the target to start', () => output().includes('ready'));
    pane = await TmuxPane.start({ width: 120, height: 30 });
    pane.type(topCommand(`--pid ${pid} --interval 1`));

    // Two refreshes: the percentages are then over a whole 1 s interval (about 100 samples).
    const first = await waitFor('a table with the hot function on top', () => {
      const screen = pane!.screen();
      return samplesShown(screen) >= 200 && rows(screen)[0]?.name === 'hot_spin' ? screen : undefined;
    });
    expect(pane.format('#{alternate_on}')).toBe('1');
    expect(first[0]).toMatch(new RegExp(`^pyspy-ts top  PID ${pid}  Python 3\\.11`));
    const hot = rows(first)[0];
    // By the clock, hot_spin is 80% of the time and warm_spin 20%.
    expect(hot.own).toBeGreaterThan(60);
    expect(hot.own).toBeLessThan(95);
    expect(rows(first)[1].name).toBe('warm_spin');
    expect(first.join('\n')).toMatch(/GIL: (9\d|100)\.\d%/);

    const sortedBy = async (key: string, title: string) => {
      pane!.keys(key);
      return waitFor(`the table sorted by ${title}`, () => {
        const screen = pane!.screen();
        return screen.some((l) => l.includes(`Sort: ${title} `)) ? rows(screen) : undefined;
      });
    };
    const byTotal = await sortedBy('2', '%Total');
    expect(stackRoots.has(byTotal[0].name)).toBe(true);
    expect(byTotal[0].total).toBe(100);
    expect(byTotal.findIndex((r) => r.name === 'hot_spin')).toBe(3);
    expect((await sortedBy('3', 'OwnTime'))[0].name).toBe('hot_spin');
    expect(stackRoots.has((await sortedBy('4', 'TotalTime'))[0].name)).toBe(true);
    expect((await sortedBy('1', '%Own'))[0].name).toBe('hot_spin');

    pane.keys('L');
    await waitFor('rows by line', () =>
      rows(pane!.screen()).some((r) => /^hot_spin \(tests\/targets\/top_target\.py:\d+\)$/.test(r.label)),
    );

    pane.keys('q');
    const { status, screen: after } = await waitForExit(pane);
    expect(status).toBe(0);
    expect(after.filter((l) => l.trim() !== '').at(-1)).toBe(TmuxPane.prompt.trimEnd());
    expect(pane.format('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    // Nothing of the table is left on the normal screen.
    expect(after.join('\n')).not.toContain('%Own');
    // Watching a process by PID leaves it running.
    expect(isRunning(pid)).toBe(true);

    // The terminal is back in cooked mode, echoing.
    pane.type('stty -a | tr " " "\\n" | grep -x -e icanon -e echo | sort | tr "\\n" " "; echo');
    await waitFor('stty to show a sane terminal', () => pane!.screen().some((l) => l.trim() === 'echo icanon'));
  });

  it('R starts the counts again from zero', async () => {
    pane = await TmuxPane.start({ width: 120, height: 30 });
    pane.type(topCommand(`--interval 0.5 -- ${interp.exe} ${target}`));
    await waitFor('over 2 s of samples', () => samplesShown(pane!.screen()) >= 200, 30_000);
    pane.keys('R');
    const reset = await waitFor('the counts to restart', () => {
      const screen = pane!.screen();
      const n = samplesShown(screen);
      return n > 0 && n < 120 && rows(screen).length > 0 ? rows(screen) : undefined;
    });
    expect(Math.max(...reset.map((r) => r.totalTime))).toBeLessThan(1.5);
    pane.keys('q');
    expect((await waitForExit(pane)).status).toBe(0);
  });

  it('adapts to a resize without wrapping, and Ctrl-C quits, stops the launched program and restores the terminal', async () => {
    pane = await TmuxPane.start({ width: 120, height: 30 });
    pane.type(topCommand(`--interval 0.5 -- ${interp.exe} ${target}`));
    const screen = await waitFor('a table', () => {
      const s = pane!.screen();
      return rows(s)[0]?.name === 'hot_spin' ? s : undefined;
    });
    const launchedPid = Number(/PID (\d+)/.exec(screen[0])![1]);
    expect(isRunning(launchedPid)).toBe(true);

    pane.resize(50, 10);
    const narrow = await waitFor('the table redrawn for 50 columns', () => {
      const s = pane!.screen();
      return s.length === 10 && /^\s*%Own/.test(s[4]) && s[5].startsWith(' ') ? s : undefined;
    });
    expect(narrow[0]).toMatch(/^pyspy-ts top {2}PID/);
    // Rows are cut at the width, not wrapped onto the next line.
    expect(narrow.slice(5).every((l) => l === '' || /^\s*[\d.]+%/.test(l))).toBe(true);

    pane.keys('C-c');
    expect((await waitForExit(pane)).status).toBe(0);
    expect(pane.format('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    await waitFor('the launched program to be stopped', () => !isRunning(launchedPid));
  });

  it('restores the terminal when the target exits, and prints the whole run', async () => {
    pane = await TmuxPane.start({ width: 120, height: 40 });
    pane.type(topCommand(`--interval 0.5 -- ${interp.exe} ${target} 2`));
    const { status, screen: after } = await waitForExit(pane, 30_000);
    expect(status).toBe(0);
    const text = after.join('\n');
    expect(text).toContain('The program exited with code 0; stopped sampling.');
    expect(text).toContain('--- whole run');
    expect(rows(after)[0].name).toBe('hot_spin');
    expect(pane.format('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it('restores the terminal on SIGTERM', async () => {
    const { pid, output } = await startPython(interp, [target]);
    await waitFor('the target to start', () => output().includes('ready'));
    pane = await TmuxPane.start({ width: 100, height: 20 });
    pane.type(topCommand(`--pid ${pid}`));
    await waitFor('a table', () => rows(pane!.screen()).length > 0);
    process.kill(pane.foregroundPid()!, 'SIGTERM');
    expect((await waitForExit(pane)).status).toBe(0);
    expect(pane.format('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    expect(isRunning(pid)).toBe(true);
  });
});

describe('top when stdout is not a terminal', () => {
  it('prints a plain table every interval and stops when the target exits', async () => {
    const { pid, child, output } = await startPython(interp, [target]);
    await waitFor('the target to start', () => output().includes('ready'));
    const cli = startCli(['top', '--pid', String(pid), '--interval', '0.5']);
    let stdout = '';
    cli.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitFor('three tables', () => (stdout.match(/^--- \d{4}-/gm) ?? []).length >= 3);
    child.kill('SIGKILL');
    const result = await cli.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/\x1b/);
    const tables = result.stdout.split(/^(?=--- )/m);
    for (const table of tables.slice(1, 3)) {
      expect(table).toMatch(/^--- \d{4}-\d\d-\d\dT[\d:.]+Z {2}PID \d+ {2}Python 3\.11/);
      expect(rows(table.split('\n'))[0].name).toBe('hot_spin');
    }
    expect(result.stdout).toContain(`Process ${pid} exited; stopped sampling.`);
  });

  it('runs a command to its end, with a summary of the whole run', () => {
    const result = runCli(['top', '--interval', '0.5', '--', interp.exe, target, '2'], { timeoutMs: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    const final = result.stdout.slice(result.stdout.indexOf('--- whole run'));
    const top = rows(final.split('\n'));
    expect(top[0].name).toBe('hot_spin');
    expect(top[0].own).toBeGreaterThan(60);
    expect(top[0].own).toBeLessThan(95);
    expect(top[1].name).toBe('warm_spin');
    expect(final).toContain('The program exited with code 0; stopped sampling.');
  });

  it('stops on SIGINT, prints the summary, and leaves a watched process running', async () => {
    const { pid, output } = await startPython(interp, [target]);
    await waitFor('the target to start', () => output().includes('ready'));
    const cli = startCli(['top', '--pid', String(pid), '--interval', '0.5']);
    let stdout = '';
    cli.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitFor('a table', () => stdout.includes('hot_spin'));
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('--- whole run');
    expect(isRunning(pid)).toBe(true);
  });

  it('refuses an interval it cannot keep', () => {
    const result = runCli(['top', '--pid', '1', '--interval', '0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--interval must be/);
  });
});
