import { describe, expect, it } from 'vitest';
import { renderChromeTrace } from '../src/index.js';
import type { Profile } from '../src/profile.js';
import { buildProfile, emptyProfile, frame, main, parse, unicodeProfile, work } from './fixtures.js';

interface TraceEvent {
  name: string;
  ph: string;
  ts?: number;
  pid: number;
  tid: number;
}

/** Valid JSON whose B/E events nest properly per thread, in non-decreasing time. */
function checkedEvents(profile: Profile): TraceEvent[] {
  const { traceEvents } = JSON.parse(renderChromeTrace(profile)) as { traceEvents: TraceEvent[] };
  const perThread = new Map<string, { open: string[]; lastTs: number }>();
  for (const event of traceEvents) {
    if (event.ph === 'M') continue;
    expect(['B', 'E']).toContain(event.ph);
    const key = `${event.pid}/${event.tid}`;
    const thread = perThread.get(key) ?? { open: [], lastTs: -Infinity };
    perThread.set(key, thread);
    expect(event.ts).toBeGreaterThanOrEqual(thread.lastTs);
    thread.lastTs = event.ts!;
    if (event.ph === 'B') thread.open.push(event.name);
    else expect(thread.open.pop()).toBe(event.name);
  }
  for (const { open } of perThread.values()) expect(open).toEqual([]);
  return traceEvents;
}

describe('chrome trace output', () => {
  it('lays aggregated stacks out back to back, balanced per thread', () => {
    const events = checkedEvents(unicodeProfile());
    const begins = events.filter((e) => e.ph === 'B');
    expect(begins.filter((e) => e.name === 'main (app.py:10)')).toHaveLength(1);
    expect(Math.max(...events.filter((e) => e.ph === 'E').map((e) => e.ts!))).toBe(80 * 10_000);
  });

  it('follows the timeline, keeping common prefixes open between samples', () => {
    const threads = [
      { id: 1, name: 'MainThread', pid: 7 },
      { id: 2, name: 'worker', pid: 7 },
    ];
    const profile = buildProfile(
      [
        { frames: [main, work], count: 2, thread: 0 },
        { frames: [main, parse], count: 1, thread: 0 },
        { frames: [frame('run'), work], count: 2, thread: 1 },
      ],
      { threads, timeline: { timesUs: [0, 0, 10, 10, 20], stacks: [0, 2, 1, 2, 0] } },
    );
    const events = checkedEvents(profile);
    const main1 = events.filter((e) => e.tid === 1 && e.name === 'main (app.py:10)');
    expect(main1.map((e) => e.ph)).toEqual(['B', 'E']);
    expect(events.filter((e) => e.tid === 1 && e.ph === 'B').map((e) => [e.name, e.ts])).toEqual([
      ['main (app.py:10)', 0],
      ['work (app.py:20)', 0],
      ['parse (app.py:30)', 10],
      ['work (app.py:20)', 20],
    ]);
  });

  it('names the process and its threads', () => {
    const events = checkedEvents(unicodeProfile());
    expect(events.filter((e) => e.ph === 'M').map((e) => e.name)).toEqual(['process_name', 'thread_name']);
  });

  it('is valid for a profile without samples', () => {
    expect(checkedEvents(emptyProfile()).filter((e) => e.ph !== 'M')).toEqual([]);
  });
});
