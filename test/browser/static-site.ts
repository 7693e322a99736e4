/**
 * The demo as a static site: built by `vite build --config vite.demo.config.ts` (what `npm run
 * build:demo` runs) into a temporary folder, then served by a plain node:http file server under a
 * sub-path, as a static host would serve it. No Vite at serving time.
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { build } from 'vite';

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
};

export interface StaticSite {
  /** The site's URL on localhost (a secure context, as WebGPU requires), ending in '/'. */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the demo and serves it at http://localhost:<port><prefix>. */
export async function serveBuiltDemo(prefix = '/some/static/host/path/'): Promise<StaticSite> {
  const folder = mkdtempSync(join(tmpdir(), 'demo-site-'));
  await build({ configFile: 'vite.demo.config.ts', logLevel: 'warn', build: { outDir: folder, emptyOutDir: true, sourcemap: false } });
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (!path.startsWith(prefix)) {
      response.writeHead(404).end();
      return;
    }
    let file = normalize(join(folder, path.slice(prefix.length)));
    if (file.startsWith(folder) && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(folder) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the static server did not listen');
  return {
    url: `http://localhost:${address.port}${prefix}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
