/**
 * Output files: the format a path implies, and writes that never leave half a file behind.
 */
import { closeSync, fstatSync, fsyncSync, lstatSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError } from '@pyspy/core';

export const FORMATS = ['flamegraph', 'speedscope', 'raw', 'chrometrace', 'json', 'pprof'] as const;
export type Format = (typeof FORMATS)[number];

export const EXTENSIONS: Record<Format, string> = {
  flamegraph: 'svg',
  speedscope: 'speedscope.json',
  raw: 'txt',
  chrometrace: 'trace.json',
  json: 'pyspy.json',
  pprof: 'pb.gz',
};

/** The format an output path implies, longest suffix first; undefined when it implies none. */
export function formatFromPath(path: string): Format | undefined {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.svg')) return 'flamegraph';
  if (name.endsWith('.speedscope.json')) return 'speedscope';
  if (name.endsWith('.pyspy.json')) return 'json';
  if (name.endsWith('.trace.json') || name.endsWith('.chrometrace.json')) return 'chrometrace';
  if (name.endsWith('.json')) return 'speedscope';
  if (name.endsWith('.pb.gz') || name.endsWith('.pprof')) return 'pprof';
  if (name.endsWith('.txt') || name.endsWith('.folded') || name.endsWith('.collapsed')) return 'raw';
  return undefined;
}

/**
 * A file written in one step at the end: content goes to a temporary file beside the target
 * (same filesystem, so the rename is atomic), created when the record starts so that an
 * unwritable place fails before any sampling.
 *
 * The temporary file is created exclusively and written through the descriptor that created it,
 * never reopened by name: whatever appears at its name later (a symlink planted by someone who
 * can write to the directory) is never written through. The rename replaces a symlink at `path`
 * rather than writing through it.
 */
export class AtomicOutput {
  private readonly tempPath: string;
  private fd: number | undefined;
  private done = false;

  constructor(readonly path: string) {
    const temporary = createTemporary(path);
    this.tempPath = temporary.tempPath;
    this.fd = temporary.fd;
  }

  commit(content: string | Uint8Array): void {
    if (this.fd === undefined) throw new Error(`output ${this.path} was already committed or discarded`);
    writeFileSync(this.fd, content);
    // Without it, a crash soon after the rename can leave an empty file where the old one was.
    fsyncSync(this.fd);
    const written = fstatSync(this.fd);
    this.closeFd();
    // The rename goes by name: if the entry there is no longer our file, moving it to `path` would
    // put someone else's file or symlink there.
    const now = lstatSync(this.tempPath, { throwIfNoEntry: false });
    if (now === undefined || now.ino !== written.ino || now.dev !== written.dev) {
      this.done = true; // what is there now is not ours to remove
      throw new Error(`the temporary file ${this.tempPath} was replaced while recording; nothing was written to ${this.path}`);
    }
    renameSync(this.tempPath, this.path);
    this.done = true;
  }

  discard(): void {
    this.closeFd();
    if (this.done) return;
    this.done = true;
    try {
      unlinkSync(this.tempPath);
    } catch {
      // Already gone.
    }
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}

/** Tries at a random temporary name after the plain one is taken; many collisions mean an attack or a bug. */
const TEMP_NAME_ATTEMPTS = 16;

function createTemporary(path: string): { tempPath: string; fd: number } {
  const base = join(dirname(path), `.${basename(path)}.${process.pid}`);
  // The plain name first, so a file left by a killed record says whose it was; then random ones:
  // an existing file or link there is someone else's, never to be reused, followed or removed.
  for (let attempt = 0; ; attempt++) {
    // node:crypto only when the plain name is taken: loading it costs a record 0.7 MB of memory.
    const random = () => process.getBuiltinModule('node:crypto').randomBytes(6).toString('hex');
    const tempPath = attempt === 0 ? `${base}.tmp` : `${base}.${random()}.tmp`;
    try {
      // 'wx' is O_CREAT|O_EXCL: fails on any existing entry, a dangling symlink included.
      return { tempPath, fd: openSync(tempPath, 'wx', 0o644) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && attempt < TEMP_NAME_ATTEMPTS) continue;
      throw new InvalidArgumentError(`cannot write ${path}: ${describeFsError(code ?? (error as Error).message)}`);
    }
  }
}

function describeFsError(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'its directory does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    default:
      return code;
  }
}
