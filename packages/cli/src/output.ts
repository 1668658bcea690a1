/**
 * Output files: the format a path implies, and writes that never leave half a file behind.
 */
import { closeSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
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
 * unwritable place fails before any sampling. The rename replaces a symlink at `path` rather
 * than writing through it.
 */
export class AtomicOutput {
  private readonly tempPath: string;
  private done = false;

  constructor(readonly path: string) {
    this.tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    try {
      // 'wx': never reuse or follow whatever sits at the temporary name.
      closeSync(openSync(this.tempPath, 'wx', 0o644));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new InvalidArgumentError(`cannot write ${path}: ${describeFsError(reason)}`);
    }
  }

  commit(content: string | Uint8Array): void {
    writeFileSync(this.tempPath, content);
    renameSync(this.tempPath, this.path);
    this.done = true;
  }

  discard(): void {
    if (this.done) return;
    this.done = true;
    try {
      unlinkSync(this.tempPath);
    } catch {
      // Already gone.
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
