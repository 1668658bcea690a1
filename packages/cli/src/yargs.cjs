// The yargs part of the CommonJS bundle (see build.mjs), with yargs itself as module.exports, as
// src/cli.ts's `import('yargs')` expects of a CommonJS module.
module.exports = require('yargs').default;
