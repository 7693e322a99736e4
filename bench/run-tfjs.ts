// The TF.js suite alone (docs/tfjs.md, Performance): `npm run bench:tfjs [-- --quick]` opens
// headless Chromium on the project's Vite server, runs bench/tfjs-adapter.ts in bench/tfjs.html
// and writes bench/results-tfjs.json (bench/results-tfjs.partial.json for --quick).
import { openBrowser } from '../scripts/browser.js';
import { FULL_RUN } from './presets.js';
import { echoProgress } from './progress.js';
import { runTfjsBench } from './tfjs-run.js';

const started = Date.now();
const session = await openBrowser();
const tty = echoProgress(session, started);
try {
  await runTfjsBench(session, { quick: process.argv.includes('--quick'), rounds: FULL_RUN.rounds, warmup: FULL_RUN.warmup },
    (line) => console.log(`${tty ? '\r\x1b[K' : ''}${line}`));
  console.log(`in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await session.close();
}
