import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
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

  /** The temporary name tried first: the name an attacker who knows our PID would plant a link at. */
  const plainTemporary = (path: string) => join(path, '..', `.${path.split('/').pop()}.${process.pid}.tmp`);

  it('never follows a symlink planted at the temporary name, and leaves it alone', () => {
    const d = dir();
    const victim = join(d, 'victim');
    writeFileSync(victim, 'precious');
    const path = join(d, 'p.txt');
    const planted = plainTemporary(path);
    symlinkSync(victim, planted);
    const output = new AtomicOutput(path);
    output.commit('profile');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(path, 'utf8')).toBe('profile');
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(readlinkSync(planted)).toBe(victim);
    expect(readdirSync(d).sort()).toEqual([`.p.txt.${process.pid}.tmp`, 'p.txt', 'victim']);
  });

  it('never follows a dangling symlink planted at the temporary name (it would create the file it points to)', () => {
    const d = dir();
    const target = join(d, 'would-be-created');
    const path = join(d, 'p.txt');
    symlinkSync(target, plainTemporary(path));
    new AtomicOutput(path).commit('profile');
    expect(existsSync(target)).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('profile');
  });

  it('writes through the file it created, not through a symlink that replaced it during the record', () => {
    const d = dir();
    const victim = join(d, 'victim');
    writeFileSync(victim, 'precious');
    const path = join(d, 'p.txt');
    const output = new AtomicOutput(path);
    const temporary = plainTemporary(path);
    expect(existsSync(temporary)).toBe(true);
    // Someone with write access to the directory swaps our temporary file for a link.
    renameSync(temporary, join(d, 'moved-away'));
    symlinkSync(victim, temporary);
    expect(() => output.commit('profile')).toThrow(/was replaced while recording/);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(existsSync(path)).toBe(false);
    // Not ours any more: neither renamed into place nor removed.
    expect(readlinkSync(temporary)).toBe(victim);
    // The content went to our file, wherever it was moved.
    expect(readFileSync(join(d, 'moved-away'), 'utf8')).toBe('profile');
  });

  it('a temporary file removed during the record fails the commit instead of writing elsewhere', () => {
    const d = dir();
    const path = join(d, 'p.txt');
    const output = new AtomicOutput(path);
    unlinkSync(plainTemporary(path));
    expect(() => output.commit('profile')).toThrow(/was replaced while recording/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('discarding after a failed commit closes and removes nothing that is not ours', () => {
    const d = dir();
    const path = join(d, 'p.txt');
    const output = new AtomicOutput(path);
    const temporary = plainTemporary(path);
    unlinkSync(temporary);
    writeFileSync(temporary, 'someone else');
    expect(() => output.commit('profile')).toThrow();
    output.discard();
    expect(readFileSync(temporary, 'utf8')).toBe('someone else');
  });
});
