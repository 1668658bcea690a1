// Bundles the CLI into dist/: one entry (dist/cli.js) and a chunk per command, loaded on demand,
// so `pyspy-ts --version` parses a few kilobytes instead of yargs, @pyspy/core and every renderer
// as hundreds of modules. @pyspy/napi stays outside: its loader picks a platform package at run time.
// esbuild does not type-check: `pnpm check` runs tsc over src and test (packages/cli/test/tsconfig.json).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * yargs renders its help text for every command it runs (to have it ready if the handler fails),
 * measuring each cell with string-width, which segments graphemes and runs emoji regexes per
 * character: ~50 ms of a 2 ms `dump`. Printable ASCII is one column a character, so that case is
 * answered first and the rest goes to the real string-width the importer asked for.
 */
const asciiFastStringWidth = {
  name: 'ascii-fast-string-width',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await build.resolve('string-width', { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'real' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'ascii-fast-string-width' };
    });
    build.onLoad({ filter: /.*/, namespace: 'ascii-fast-string-width' }, (args) => ({
      contents: [
        `import stringWidth from ${JSON.stringify(args.path)};`,
        'const printableAscii = /^[\\x20-\\x7e]*$/;',
        'export default (text, options) => (typeof text === "string" && printableAscii.test(text) ? text.length : stringWidth(text, options));',
      ].join('\n'),
      resolveDir: dirname(args.path),
    }));
  },
};

rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external: ['@pyspy/napi'],
  chunkNames: 'chunks/[name]-[hash]',
  // string-width (in yargs) makes an Intl.Segmenter as it loads: made on first use instead.
  inject: ['src/lazy-segmenter.ts'],
  define: { 'Intl.Segmenter': 'LazySegmenter' },
  // Smaller to parse, still readable in a stack trace.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  plugins: [asciiFastStringWidth],
  logLevel: 'warning',
});
