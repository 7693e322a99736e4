/**
 * The demo as a static site: built by `vite build --config vite.demo.config.ts` (what `npm run
 * build:demo` runs) into a temporary folder, then served by a plain node:http file server under a
 * sub-path, as a static host would serve it. No Vite at serving time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { serveFolder } from '../helpers/serve-folder.js';

export interface StaticSite {
  /** The site's URL on localhost (a secure context, as WebGPU requires), ending in '/'. */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the demo and serves it at http://localhost:<port><prefix>. */
export async function serveBuiltDemo(prefix = '/some/static/host/path/'): Promise<StaticSite> {
  const folder = mkdtempSync(join(tmpdir(), 'demo-site-'));
  await build({ configFile: 'vite.demo.config.ts', logLevel: 'warn', build: { outDir: folder, emptyOutDir: true, sourcemap: false } });
  const served = await serveFolder(folder, prefix);
  return {
    url: served.url,
    close: async () => {
      await served.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
