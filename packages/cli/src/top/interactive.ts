/** `top` on a terminal: the full-screen table, refreshed every interval and driven by keys. */
import type { LiveEnd, LiveRecorder, LiveSnapshot } from '@pyspy/core';
import { finalSummary, onStopSignals } from './lifecycle.js';
import { Screen, type ScreenLine } from './screen.js';
import {
  buildTable,
  columnHeader,
  formatHeader,
  formatRow,
  formatStatus,
  HELP_LINES,
  SORT_KEYS,
  type HeaderInfo,
  type View,
} from './table.js';

/** The state of the view; keys change it, `lines()` shows it. Kept apart from the terminal so it can be tested. */
export class TopView {
  readonly view: View = { byLine: false, sort: 'own' };
  paused = false;
  help = false;
  /** Latest snapshot and the one before it: their difference is the last interval. */
  private current: LiveSnapshot;
  private previous: LiveSnapshot | undefined;
  /** What is on screen: frozen while paused, while sampling goes on. */
  private shown: { current: LiveSnapshot; previous: LiveSnapshot | undefined };

  constructor(
    private readonly live: Pick<LiveRecorder, 'snapshot' | 'reset'>,
    private readonly header: HeaderInfo,
  ) {
    this.current = live.snapshot();
    this.shown = { current: this.current, previous: undefined };
  }

  /** Takes the next snapshot (every interval). */
  refresh(): void {
    this.previous = this.current;
    this.current = this.live.snapshot();
    if (!this.paused) this.shown = { current: this.current, previous: this.previous };
  }

  /** Applies a key; returns 'quit' when the view should end. */
  key(key: string): 'quit' | undefined {
    if (key === 'q' || key === 'Q' || key === 'ctrl-c') return 'quit';
    if (this.help) {
      this.help = false;
      return undefined;
    }
    const sort = SORT_KEYS[key];
    if (sort) this.view.sort = sort;
    else if (key === 'l' || key === 'L') this.view.byLine = !this.view.byLine;
    else if (key === 'p' || key === 'P') {
      this.paused = !this.paused;
      if (!this.paused) this.shown = { current: this.current, previous: this.previous };
    } else if (key === 'r' || key === 'R') {
      // Counts restart from zero in the recorder (it subtracts what it had); the interval starts again too.
      this.live.reset();
      this.current = this.live.snapshot();
      this.previous = undefined;
      this.shown = { current: this.current, previous: undefined };
    } else if (key === '?') this.help = true;
    return undefined;
  }

  lines(height: number): ScreenLine[] {
    if (this.help) return HELP_LINES.map((text) => ({ text }));
    const table = buildTable(this.shown.current, this.shown.previous, this.view);
    const [what, how] = formatHeader(this.header, table);
    const lines: ScreenLine[] = [
      { text: `pyspy-ts top  ${what}`, style: 'bold' },
      { text: how },
      { text: formatStatus(this.view, this.paused) },
      { text: '' },
      { text: columnHeader(table.processes), style: 'reverse' },
    ];
    if (table.rows.length === 0) {
      lines.push({ text: 'No samples yet. An idle program shows none: --idle includes idle threads.' });
    }
    for (const row of table.rows.slice(0, Math.max(0, height - lines.length))) lines.push({ text: formatRow(row, table) });
    return lines;
  }
}

/** Keeps the last `limit` characters of a launched program's output, shown once the screen is back. */
export class OutputTail {
  private text = '';
  private dropped = false;
  constructor(private readonly limit = 64 * 1024) {}

  readonly add = (chunk: Buffer | string): void => {
    this.text += chunk.toString();
    if (this.text.length > this.limit) {
      this.text = this.text.slice(this.text.length - this.limit);
      this.dropped = true;
    }
  };

  toString(): string {
    if (this.text === '') return '';
    const title = this.dropped ? `--- the program's output (last ${this.limit / 1024} KiB) ---` : "--- the program's output ---";
    return `${title}\n${this.text}${this.text.endsWith('\n') ? '' : '\n'}`;
  }
}

type Outcome = { kind: 'quit' } | { kind: 'ended'; end: LiveEnd } | { kind: 'error'; error: unknown };

/**
 * Runs the view until `q`, Ctrl-C, a stop signal, the target's exit or an error; the terminal is
 * restored before this returns or throws. On the target's exit the whole run is printed on the
 * normal screen, so it outlives the view.
 */
export async function runInteractive(
  live: LiveRecorder,
  header: HeaderInfo,
  intervalMs: number,
  output?: OutputTail,
): Promise<LiveEnd> {
  const screen = new Screen(process.stdout, process.stdin);
  const state = new TopView(live, header);
  let timer: NodeJS.Timeout | undefined;
  let removeSignals = () => {};
  let onResize = () => {};
  let onOutputError = () => {};
  let outcome: Outcome;
  try {
    outcome = await new Promise<Outcome>((resolve) => {
      const guarded = (action: () => void) => () => {
        try {
          action();
        } catch (error) {
          resolve({ kind: 'error', error });
        }
      };
      const draw = () => screen.draw(state.lines(screen.height));
      screen.enter((key) =>
        guarded(() => {
          if (state.key(key) === 'quit') resolve({ kind: 'quit' });
          else draw();
        })(),
      );
      onResize = guarded(draw);
      process.stdout.on('resize', onResize);
      removeSignals = onStopSignals(() => resolve({ kind: 'quit' }));
      // The terminal went away (closed window): nothing left to draw on.
      onOutputError = () => resolve({ kind: 'quit' });
      process.stdout.on('error', onOutputError);
      timer = setInterval(
        guarded(() => {
          state.refresh();
          if (!state.paused) draw();
        }),
        intervalMs,
      );
      live.ended.then(
        (end) => resolve({ kind: 'ended', end }),
        (error) => resolve({ kind: 'error', error }),
      );
      guarded(draw)();
    });
  } finally {
    clearInterval(timer);
    process.stdout.off('resize', onResize);
    screen.leave();
  }
  // Errors writing to a terminal that is gone are ignored from here on.
  process.stdout.off('error', onOutputError);
  process.stdout.on('error', () => undefined);
  // The screen is back; stopping a launched program may take a moment: a second Ctrl-C must not cut it short.
  const removeIgnore = onStopSignals(() => {});
  removeSignals();
  try {
    const end = outcome.kind === 'ended' ? outcome.end : await live.stop();
    if (outcome.kind === 'error') throw outcome.error;
    const tail = output?.toString() ?? '';
    if (tail) process.stderr.write(tail);
    if (outcome.kind === 'ended') process.stdout.write(finalSummary(live, header, state.view, end));
    return end;
  } finally {
    removeIgnore();
  }
}
