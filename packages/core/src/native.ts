import { createRequire } from 'node:module';
import type * as Native from '@pyspy/napi';

// The napi-rs loader is CommonJS and picks the right .node binary for this platform.
const require = createRequire(import.meta.url);
export const native: typeof Native = require('@pyspy/napi');
export type { Native };
