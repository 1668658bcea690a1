import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { ProcessDump } from '@pyspy/napi';
import type { WasmFile } from '../wasm/pyspy_wasm.js';
import { Worker } from 'node:worker_threads';
import { brotliDecompressSync } from 'node:zlib';
import { InvalidArgumentError, PyspyError } from './errors.js';

type WasmModule = typeof import('../wasm/pyspy_wasm.js');

let loaded: WasmModule | undefined;

/**
 * The WASM build shipped in this package's wasm/, instantiated on first use. Node reads the brotli
 * copy (scripts/copy-wasm.mjs): the CLI ships only that one.
 */
async function wasm(): Promise<WasmModule> {
  if (!loaded) {
    const module = await import('../wasm/pyspy_wasm.js');
    module.initSync({ module: brotliDecompressSync(readFileSync(new URL('../wasm/pyspy_wasm_bg.wasm.br', import.meta.url))) });
    loaded = module;
  }
  return loaded;
}

/** Every `code` the WASM build's errors can carry. */
export async function wasmErrorCodes(): Promise<string[]> {
  return (await wasm()).errorCodes();
}

/** A file read in pieces with `readSync`: the WASM side asks for what it needs, never the whole file. */
class FdFile implements WasmFile {
  readonly size: number;
  private constructor(
    readonly name: string,
    private readonly fd: number,
  ) {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      throw new Error(`${name} is not a regular file`);
    }
    this.size = stat.size;
  }

  /** Only regular files: checked before opening, since opening a FIFO would block. */
  static open(path: string): FdFile {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    return new FdFile(path, openSync(path, 'r'));
  }

  read(offset: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, bytes, done, length - done, offset + done);
      if (n === 0) throw new Error(`${this.name} ends before offset ${offset + length}`);
      done += n;
    }
    return bytes;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function bytesFile(name: string, bytes: Uint8Array): WasmFile {
  return { name, size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

function openArgument(path: string, what: string): FdFile {
  try {
    return FdFile.open(path);
  } catch (error) {
    throw new InvalidArgumentError(`could not open ${what} ${path}: ${(error as Error).message}`);
  }
}

/** What `dumpCoreWasm` runs on a worker thread: the reading itself, synchronous there. */
export async function dumpCoreHere(
  core: string | Uint8Array,
  binaries: string[],
  locals: boolean,
  asyncio = false,
): Promise<ProcessDump> {
  const module = await wasm();
  const opened: FdFile[] = [];
  const track = (file: FdFile) => {
    opened.push(file);
    return file;
  };
  try {
    const coreFile = typeof core === 'string' ? track(openArgument(core, 'the core')) : bytesFile('the core', core);
    const supplied = binaries.map((path) => track(openArgument(path, '--binary')));
    const opener = (path: string) => {
      try {
        return track(FdFile.open(path));
      } catch {
        return null;
      }
    };
    return JSON.parse(module.dumpCore(coreFile, supplied, opener, locals, asyncio)) as ProcessDump;
  } finally {
    for (const file of opened) file.close();
  }
}

/** The outcome a worker posts back: the dump, or the error's code and message. */
export type WorkerOutcome = { dump: ProcessDump } | { error: { message: string; code?: string } };

/**
 * `dumpCore` through WASM: the same Rust core as the addon, with files read by Node. The WASM side
 * reads synchronously, so it runs on a worker thread: a dump of a big core never blocks the event
 * loop, as the addon's runs on libuv's pool.
 */
export function dumpCoreWasm(
  core: string | Uint8Array,
  binaries: string[],
  locals: boolean,
  asyncio = false,
): Promise<ProcessDump> {
  return new Promise((resolve, reject) => {
    // `node --input-type=module -e ...` would pass its flag on to the worker, which Node refuses.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const worker = new Worker(new URL('./wasm-worker.js', import.meta.url), {
      workerData: { core, binaries, locals, asyncio },
      execArgv,
    });
    worker.once('message', (outcome: WorkerOutcome) => {
      if ('dump' in outcome) resolve(outcome.dump);
      else reject(Object.assign(new Error(outcome.error.message), { code: outcome.error.code }));
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new PyspyError('PYSPY_READ_FAILED', `the WASM worker exited (${code}) without a result`)),
    );
  });
}
