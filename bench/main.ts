/**
 * The benchmark page that `npm run bench` (bench/run.mjs) drives in headless Chromium: it runs
 * bench/run-bench.ts and sends progress out through console.log.
 */
import { runBench, type BenchConfig, type BenchResult } from './run-bench.js';

declare global {
  interface Window {
    runBench(config: BenchConfig): Promise<BenchResult>;
    benchReady: boolean;
  }
}

window.runBench = (config) => runBench(config, ({ message }) => console.log(`PROGRESS ${message}`));
window.benchReady = true;
