import { createRequire } from 'node:module';
import type * as Native from '@pyspy/napi';

// The napi-rs loader is CommonJS and picks the right .node binary for this platform. Loaded on
// first use, not on import: `diff` and the renderers need no addon, and must work where there is
// none (a CI job comparing stored profiles on another OS).
const require = createRequire(import.meta.url);
let loaded: typeof Native | undefined;
export function native(): typeof Native {
  loaded ??= require('@pyspy/napi') as typeof Native;
  return loaded;
}
export type { Native };
