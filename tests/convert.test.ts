/**
 * `convert`: a profile recorded once as `.pyspy.json` (a CI job's) re-rendered in any format is
 * what `record` would have written in that format from the same samples. Both are rendered here
 * from one record's JSON: through `convert`, and through the function `record` writes with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENSIONS } from '../packages/cli/src/output.js';
import { renderOutput } from '../packages/cli/src/render-output.js';
import { parseProfile } from '../packages/render/dist/index.js';
import { interpreterById, killAll, runCli, targetsDir, tempDir } from './helpers.js';

afterAll(killAll);

describe('record -o a.pyspy.json, then convert', () => {
  const interp = interpreterById('3.12-pyenv');
  const dir = tempDir('convert');
  const json = join(dir, 'a.pyspy.json');

  it('gives, in every format, the file record -o would have given from the same samples', async () => {
    const result = runCli(
      ['record', '-o', json, '--hide-progress', '--cpu', '--', interp.exe, join(targetsDir, 'split_70_30.py'), '2'],
      {
        env: interp.env,
        timeoutMs: 120_000,
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const profile = parseProfile(readFileSync(json, 'utf8'));
    expect(profile.timeline?.weights?.length, 'our JSON keeps the timeline, for the Chrome trace').toBe(profile.stats.samples);
    for (const [format, extension] of Object.entries(EXTENSIONS)) {
      const out = join(dir, `b.${extension}`);
      const converted = runCli(['convert', json, '-o', out]);
      expect(converted.status, converted.stderr).toBe(0);
      const expected = Buffer.from(await renderOutput(profile, format as keyof typeof EXTENSIONS));
      expect(readFileSync(out).equals(expected), format).toBe(true);
    }
    // Our JSON read back and written again is the same file.
    expect(readFileSync(join(dir, 'b.pyspy.json')).equals(readFileSync(json))).toBe(true);
  }, 120_000);

  it('a file that is not a profile is refused with one line', () => {
    const result = runCli(['convert', join(targetsDir, 'split_70_30.py'), '-o', join(dir, 'x.svg')]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
