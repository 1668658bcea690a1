// Bundles the CLI into dist/ as CommonJS, a file per part, each loaded only when needed:
//   dist/cli.js               the entry: --version, then which command runs
//   dist/yargs.js             yargs, for every command (not for --version)
//   dist/commands/<name>.js   one command with the parts of @pyspy/core and @pyspy/render it uses
//   dist/render/<format>.js   one renderer, for the format a record writes
//   dist/commands/wasm-worker.js, dist/wasm/  @pyspy/core's WASM build (brotli) and the worker thread that
//                             runs it (dump --core without the addon); found beside the bundle
//                             file that uses them, as in @pyspy/core itself
// CommonJS because Node 20 loads it some 30 ms faster than the same code as ES modules, and
// esbuild splits only ES modules: hence the explicit parts. @pyspy/napi stays outside: its loader
// picks a platform package at run time.
// esbuild does not type-check: `pnpm check` runs tsc over src and test (packages/cli/test/tsconfig.json).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * yargs' Node shim, as it loads, imports `assert` (which sets up its colours by opening stderr)
 * and reads `process.stdout.columns` (opening stdout): the stream, net and assert modules are
 * 1.7 MB of a record's resident memory, for a value used only to lay out --help. Here the two
 * assertions are plain functions and the width is read when asked for. A yargs whose shim no
 * longer reads as expected fails the build rather than being bundled unchanged.
 */
const quietYargsShim = {
  name: 'quiet-yargs-shim',
  setup(build) {
    build.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      let contents = await readFile(args.path, 'utf8');
      const replacements = [
        [
          "import { notStrictEqual, strictEqual } from 'assert'",
          [
            'const notStrictEqual = (actual, expected, message) => { if (Object.is(actual, expected)) throw new Error(message ?? `expected a value other than ${String(expected)}`) }',
            'const strictEqual = (actual, expected, message) => { if (!Object.is(actual, expected)) throw new Error(message ?? `expected ${String(expected)}, got ${String(actual)}`) }',
          ].join('\n'),
        ],
        [
          "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
          "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null }",
        ],
      ];
      for (const [from, to] of replacements) {
        if (!contents.includes(from)) return { errors: [{ text: `quiet-yargs-shim: ${args.path} no longer has: ${from}` }] };
        contents = contents.replace(from, to);
      }
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

const COMMANDS = ['record', 'top', 'dump', 'diff', 'convert'];
const RENDERERS = ['flamegraph', 'speedscope', 'collapsed', 'chrometrace', 'profile-json', 'pprof'];

/** Imports of another part become requires of its file, relative to the importer's own output file. */
const separateParts = {
  name: 'separate-parts',
  setup(build) {
    build.onResolve({ filter: /^yargs$/ }, (args) => (args.importer.endsWith('/src/cli.ts') ? { path: './yargs.js', external: true } : undefined));
    build.onResolve({ filter: /^\.\/commands\/[a-z]+\.js$/ }, (args) =>
      args.importer.endsWith('/src/cli.ts') ? { path: args.path, external: true } : undefined,
    );
    build.onResolve({ filter: /^@pyspy\/render\/[a-z-]+$/ }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: `../render/${args.path.split('/').pop()}.js`, external: true },
    );
  },
};

rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: {
    cli: 'src/cli.ts',
    yargs: 'src/yargs.cjs',
    ...Object.fromEntries(COMMANDS.map((name) => [`commands/${name}`, `src/commands/${name}.ts`])),
    ...Object.fromEntries(RENDERERS.map((name) => [`render/${name}`, `@pyspy/render/${name}`])),
    'commands/wasm-worker': '../core/src/wasm-worker.ts',
  },
  outdir: 'dist',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  // import() of another part becomes a plain require: no trip through the ES module loader.
  supported: { 'dynamic-import': false },
  external: ['@pyspy/napi'],
  // string-width (in yargs) makes an Intl.Segmenter as it loads: made on first use instead.
  // import.meta.url: the bundle file's own URL (package.json is found from it, and @pyspy/napi).
  inject: ['src/lazy-segmenter.ts', 'src/import-meta-url.ts'],
  define: { 'Intl.Segmenter': 'LazySegmenter', 'import.meta.url': 'importMetaUrl' },
  // Smaller to parse, still readable in a stack trace.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  plugins: [asciiFastStringWidth, quietYargsShim, separateParts],
  logLevel: 'warning',
});
// The package is ESM ("type": "module"); its bundle is not.
mkdirSync(new URL('./dist', import.meta.url), { recursive: true });
writeFileSync(new URL('./dist/package.json', import.meta.url), '{ "type": "commonjs" }\n');
mkdirSync(new URL('./dist/wasm', import.meta.url), { recursive: true });
copyFileSync(new URL('../core/wasm/pyspy_wasm_bg.wasm.br', import.meta.url), new URL('./dist/wasm/pyspy_wasm_bg.wasm.br', import.meta.url));
