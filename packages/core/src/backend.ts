import { InvalidArgumentError } from './errors.js';
import { type Native, native } from './native.js';

/**
 * What reads a core: the native addon where it loads (Linux x64/arm64), else the WASM build of the
 * same Rust core (macOS, Windows, other CPUs, a missing addon). `PYSPY_BACKEND=wasm` forces WASM
 * and `PYSPY_BACKEND=native` the addon, for the CLI and the API alike.
 */
export type Backend = { kind: 'native'; addon: typeof Native } | { kind: 'wasm' };

export function offlineBackend(): Backend {
  const wanted = process.env.PYSPY_BACKEND;
  if (wanted === 'wasm') return { kind: 'wasm' };
  if (wanted !== undefined && wanted !== '' && wanted !== 'native') {
    throw new InvalidArgumentError(`PYSPY_BACKEND=${wanted}: expected native or wasm`);
  }
  try {
    return { kind: 'native', addon: native() };
  } catch (error) {
    if (wanted === 'native') throw error;
    return { kind: 'wasm' };
  }
}
