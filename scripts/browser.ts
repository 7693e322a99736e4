// Headless Chromium on a page served by Vite from http://localhost (WebGPU needs a secure origin).
// Shared by the browser tests and the benchmark runner. Puppeteer never downloads a browser here
// (.puppeteerrc.cjs): it launches the system Chromium, or PUPPETEER_EXECUTABLE_PATH when set.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer';
import type { Browser, Page } from 'puppeteer';
import { createServer } from 'vite';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Flags that expose navigator.gpu headless and keep Chromium off the (closed) network. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium to launch: PUPPETEER_EXECUTABLE_PATH, else the system's; undefined when absent. */
export function chromiumPath(): string | undefined {
  const path = process.env.PUPPETEER_EXECUTABLE_PATH ?? SYSTEM_CHROMIUM;
  return existsSync(path) ? path : undefined;
}

/** A page of headless Chromium on the project's Vite server. */
export interface BrowserSession {
  readonly page: Page;
  readonly url: (path: string) => string;
  close(): Promise<void>;
}

/** Starts Vite (the project's own config) on a free localhost port and opens one Chromium page. */
export async function openBrowser(): Promise<BrowserSession> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error(`no Chromium at ${SYSTEM_CHROMIUM} (apt-get install chromium)`);
  const server = await createServer({
    root: fileURLToPath(new URL('../', import.meta.url)),
    logLevel: 'silent',
    // No hot reload: an edit to the tree while a run is in flight must not reload its page.
    server: { host: 'localhost', port: 0, strictPort: false, hmr: false },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('Vite did not listen');
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, protocolTimeout: 0 });
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error('[page error]', error));
    return {
      page,
      url: (path: string) => `http://localhost:${address.port}${path}`,
      close: async () => {
        await browser?.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.close();
    throw error;
  }
}
