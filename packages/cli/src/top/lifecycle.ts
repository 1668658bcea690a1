/** What both ways of showing `top` share: how a view stops, and what it says at the end. */
import type { LiveEnd, LiveRecorder } from '@pyspy/core';
import { buildTable, formatPlain, type HeaderInfo, type View } from './table.js';

/** Rows in a plain table: enough for the hot spots, short enough for a log. */
export const PLAIN_ROWS = 25;

/** Signals that mean "stop": they end the view cleanly, like `q`. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Calls `stop` on the first stop signal; returns the function that removes the handlers. */
export function onStopSignals(stop: () => void): () => void {
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  };
}

/** The whole run as one plain table, and why it ended, for the normal screen once the view is gone. */
export function finalSummary(live: LiveRecorder, header: HeaderInfo, view: View, end: LiveEnd): string {
  const snapshot = live.snapshot();
  const table = buildTable(snapshot, undefined, view);
  let text = formatPlain(header, table, PLAIN_ROWS, 'whole run');
  for (const note of snapshot.notes) text += `${note}\n`;
  if (end.reason === 'target-exited') {
    text +=
      end.exitCode === undefined
        ? `Process ${live.pid} exited; stopped sampling.\n`
        : `The program exited with code ${end.exitCode}; stopped sampling.\n`;
  }
  return text;
}

/** Like `record`: a launched program that failed passes its exit code on; anything else is 0. */
export function exitCodeOf(end: LiveEnd): number {
  return end.reason === 'target-exited' && end.exitCode !== undefined ? end.exitCode : 0;
}
