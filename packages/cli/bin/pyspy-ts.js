#!/usr/bin/env node
// A committed entry point, so pnpm can link `node_modules/.bin/pyspy-ts` at install time, before
// the bundle is built (dist/). CommonJS, as bin/package.json says: an ES module entry would start
// Node's ES module loader, some 40 ms of every run.
require('../dist/cli.js');
