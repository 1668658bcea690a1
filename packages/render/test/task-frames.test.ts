/**
 * asyncio task frames (`record --async`): labelled by their name alone, coloured apart in the
 * flame graph, and still task frames after a trip through every format `diff` reads.
 */
import { describe, expect, it } from 'vitest';
import {
  diffProfiles,
  frameLabel,
  loadProfileText,
  renderChromeTrace,
  renderCollapsed,
  renderFlamegraph,
  renderProfileJson,
  renderSpeedscope,
} from '../src/index.js';
import type { Frame } from '../src/profile.js';
import { buildProfile, frame } from './fixtures.js';
import { parseSvg } from './svg.js';

const task = (name: string): Frame => ({ name, file: '', line: 0, kind: 'task' });
const mainTask = task('Task main');
const cpuTask = task('Task cpu');
const folded = task('Task');
const profile = buildProfile([
  { frames: [mainTask, frame('main', 'app.py', 5), cpuTask, frame('burn', 'app.py', 9)], count: 7 },
  { frames: [mainTask, frame('main', 'app.py', 5), folded, frame('handler', 'app.py', 12)], count: 3 },
]);

describe('task frames', () => {
  it('are labelled by their name alone: Task main, Task for a default-named task', () => {
    expect(frameLabel(mainTask)).toBe('Task main');
    expect(frameLabel(folded)).toBe('Task');
    expect(renderCollapsed(profile)).toBe(
      ['Task main;main (app.py:5);Task cpu;burn (app.py:9) 7', 'Task main;main (app.py:5);Task;handler (app.py:12) 3', ''].join(
        '\n',
      ),
    );
  });

  it('get a colour of their own in the flame graph, and say what they are', () => {
    const { frames } = parseSvg(renderFlamegraph(profile));
    const tasks = frames.filter((f) => f.attributes['data-frame-kind'] === 'task');
    expect(tasks.map((f) => f.attributes['data-name']).sort()).toEqual(['Task', 'Task cpu', 'Task main']);
    const fill = (name: string) => frames.find((f) => f.attributes['data-name'] === name)!.rect.fill;
    // Blue to violet for tasks; the code keeps its warm colours.
    for (const name of ['Task main', 'Task cpu', 'Task']) {
      const [r, , b] = fill(name).match(/\d+/g)!.map(Number);
      expect(b, name).toBeGreaterThan(r);
    }
    const [r, , b] = fill('burn').match(/\d+/g)!.map(Number);
    expect(r).toBeGreaterThan(b);
  });

  it('stay task frames through our JSON, speedscope and collapsed stacks, and in a diff', () => {
    for (const text of [renderProfileJson(profile), renderSpeedscope(profile), renderCollapsed(profile)]) {
      const back = loadProfileText(text);
      expect(
        back.frames
          .filter((f) => f.kind === 'task')
          .map((f) => f.name)
          .sort(),
      ).toEqual(['Task', 'Task cpu', 'Task main']);
      expect(
        back.frames
          .filter((f) => f.kind !== 'task')
          .map((f) => f.name)
          .sort(),
      ).toEqual(['burn', 'handler', 'main']);
      expect(renderCollapsed(back)).toBe(renderCollapsed(profile));
    }
    const diff = diffProfiles(profile, loadProfileText(renderCollapsed(profile)));
    expect(diff.functions.find((f) => f.name === 'Task cpu')).toMatchObject({ file: '', totalDeltaPts: 0 });
  });

  it('keep their names in the Chrome trace', () => {
    const withTimeline = { ...profile, timeline: { timesUs: [0, 10], stacks: [0, 1] } };
    expect(renderChromeTrace(withTimeline)).toContain('"name":"Task cpu"');
  });
});
