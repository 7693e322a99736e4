/** Headless Chromium on a Vite-served localhost page: see scripts/browser.ts (shared with the benchmark). */
export { CHROMIUM_ARGS, chromiumPath, openBrowser, type BrowserSession } from '../../scripts/browser.js';
