import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtomicOutput, formatFromPath } from '../src/output.js';

describe('the format an output path implies', () => {
  it.each([
    ['profile.svg', 'flamegraph'],
    ['out/Profile.SVG', 'flamegraph'],
    ['p.speedscope.json', 'speedscope'],
    ['p.json', 'speedscope'],
    ['p.trace.json', 'chrometrace'],
    ['p.chrometrace.json', 'chrometrace'],
    ['p.txt', 'raw'],
    ['p.folded', 'raw'],
    ['p.collapsed', 'raw'],
    ['p.pyspy.json', 'json'],
    ['out/Base.PYSPY.JSON', 'json'],
    ['p.pb.gz', 'pprof'],
    ['p.pprof', 'pprof'],
  ])('%s is %s', (path, format) => {
    expect(formatFromPath(path)).toBe(format);
  });

  it('says nothing for an unknown extension', () => {
    expect(formatFromPath('profile.data')).toBeUndefined();
  });
});

describe('atomic output', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'pyspy-output-'));

  it('writes nothing at the path until committed, then the whole content, and no temporary file', () => {
    const d = dir();
    const path = join(d, 'profile.svg');
    const output = new AtomicOutput(path);
    expect(existsSync(path)).toBe(false);
    output.commit('<svg/>');
    expect(readFileSync(path, 'utf8')).toBe('<svg/>');
    expect(readdirSync(d)).toEqual(['profile.svg']);
  });

  it('fails at once for a directory that does not exist', () => {
    expect(() => new AtomicOutput('/nonexistent-pyspy-dir/p.svg')).toThrow(/cannot write .*its directory does not exist/);
  });

  it('discarding leaves nothing behind, and an existing file untouched', () => {
    const d = dir();
    const path = join(d, 'p.txt');
    writeFileSync(path, 'old');
    new AtomicOutput(path).discard();
    expect(readdirSync(d)).toEqual(['p.txt']);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });

  it('replaces a symlink at the path instead of writing through it', () => {
    const d = dir();
    const victim = join(d, 'victim');
    writeFileSync(victim, 'precious');
    const path = join(d, 'p.txt');
    symlinkSync(victim, path);
    expect(readlinkSync(path)).toBe(victim);
    new AtomicOutput(path).commit('profile');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('profile');
  });
});
