#!/usr/bin/env node
// A committed entry point, so pnpm can link `node_modules/.bin/pyspy-ts` at install time,
// before the TypeScript is built; the real CLI is compiled to dist/.
import '../dist/cli.js';
