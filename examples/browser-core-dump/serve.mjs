// Serves the page on http://127.0.0.1:PORT/ (module workers need http, not file://), with
// @pyspy/core's WASM build under wasm/. Usage: node serve.mjs [PORT]
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const wasmDir = fileURLToPath(new URL('../../packages/core/wasm/', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** Starts the server; resolves with its URL. Port 0 picks a free one. */
export function serve(port = 8080) {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
    const [root, rest] = path.startsWith('/wasm/')
      ? [wasmDir, path.slice('/wasm/'.length)]
      : [here, path.slice(1) || 'index.html'];
    const file = join(root, rest);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() }),
    ),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!existsSync(join(wasmDir, 'pyspy_wasm_bg.wasm'))) {
    console.error(`no WASM build in ${wasmDir}: run pnpm build at the repository root first`);
    process.exit(1);
  }
  const { url } = await serve(Number(process.argv[2] ?? 8080));
  console.log(`open ${url} and choose a core file`);
}
