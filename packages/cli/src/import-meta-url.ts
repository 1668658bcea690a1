/**
 * `import.meta.url` for the CommonJS bundle (see build.mjs), which has no import.meta: the URL of
 * the bundle file the code ended up in. Only the bundle imports this; sources use import.meta.
 */
export const importMetaUrl: string = require('node:url').pathToFileURL(__filename).href;
