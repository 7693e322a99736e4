/**
 * A folder served as any static file server would serve it: plain node:http on localhost (a secure
 * context, as WebGPU requires), no bundler, no transforms. Symbolic links inside the folder are
 * followed, so a node_modules link to this repository serves the built package.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.map': 'application/json', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
};

export interface ServedFolder {
  /** The folder's URL, ending in '/'. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `folder` at http://localhost:<port><prefix>; anything outside the prefix is a 404. */
export async function serveFolder(folder: string, prefix = '/'): Promise<ServedFolder> {
  const root = normalize(folder + '/');
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (!path.startsWith(prefix)) {
      response.writeHead(404).end();
      return;
    }
    let file = normalize(join(root, path.slice(prefix.length)));
    if (file.startsWith(root) && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(root) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the file server did not listen');
  return {
    url: `http://localhost:${address.port}${prefix}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
