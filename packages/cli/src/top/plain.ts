/** `top` when stdout is not a terminal: a plain table every interval, for logs. */
import type { LiveEnd, LiveRecorder, LiveSnapshot } from '@pyspy/core';
import { finalSummary, onStopSignals, PLAIN_ROWS } from './lifecycle.js';
import { buildTable, formatPlain, type HeaderInfo, type View } from './table.js';

const VIEW: View = { byLine: false, sort: 'own' };

/** Prints until the target exits or a stop signal, then a summary of the whole run. */
export async function runPlain(
  live: LiveRecorder,
  header: HeaderInfo,
  intervalMs: number,
  out: NodeJS.WritableStream = process.stdout,
): Promise<LiveEnd> {
  let previous: LiveSnapshot | undefined;
  let timer: NodeJS.Timeout | undefined;
  let removeSignals = () => {};
  // A reader that went away (`| head`) ends the view like Ctrl-C rather than with an EPIPE crash.
  let outputClosed = false;
  let onOutputError = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      onOutputError = () => {
        outputClosed = true;
        resolve();
      };
      out.on('error', onOutputError);
      timer = setInterval(() => {
        try {
          if (outputClosed) return;
          const current = live.snapshot();
          out.write(formatPlain(header, buildTable(current, previous, VIEW), PLAIN_ROWS, new Date().toISOString()));
          previous = current;
        } catch (error) {
          reject(error);
        }
      }, intervalMs);
      removeSignals = onStopSignals(() => resolve());
      live.ended.then(() => resolve(), reject);
    });
  } finally {
    clearInterval(timer);
    removeSignals();
  }
  // A second Ctrl-C while a launched program is being stopped must not kill us before the summary.
  const ignore = () => {};
  const removeIgnore = onStopSignals(ignore);
  try {
    const end = await live.stop();
    if (!outputClosed) out.write(finalSummary(live, header, VIEW, end));
    return end;
  } finally {
    removeIgnore();
    out.off('error', onOutputError);
  }
}
