/**
 * The TF.js suite's page (bench/tfjs.html), which `npm run bench` drives in headless Chromium: it
 * runs bench/tfjs-adapter.ts and sends progress out through console.log.
 */
import { runTfjsSuite, type TfjsRow, type TfjsSuiteConfig } from './tfjs-adapter.js';

declare global {
  interface Window {
    runTfjsSuite(config: TfjsSuiteConfig): Promise<{ adapter: Record<string, unknown>; rows: TfjsRow[] }>;
    tfjsBenchReady: boolean;
  }
}

window.runTfjsSuite = async (config) => {
  const adapter = await navigator.gpu.requestAdapter();
  const info = adapter?.info;
  const rows = await runTfjsSuite(config, (message) => console.log(`PROGRESS ${message}`));
  return { adapter: { vendor: info?.vendor, architecture: info?.architecture, description: info?.description }, rows };
};
window.tfjsBenchReady = true;
