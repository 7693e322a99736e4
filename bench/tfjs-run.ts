/**
 * The TF.js suite from Node (run by bench/run.ts in `npm run bench`, or alone by bench/run-tfjs.ts,
 * `npm run bench:tfjs`): opens bench/tfjs.html in the run's Chromium session, runs the suite, prints
 * its table and writes bench/results-tfjs.json (bench/results-tfjs.partial.json for --quick).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserSession } from '../scripts/browser.js';
import type { TfjsBenchShape, TfjsRow, TfjsSuiteConfig } from './tfjs-adapter.js';

/**
 * Two shapes: a small classifier's, and a language model's vocabulary (its layer narrower, D = 16:
 * on SwiftShader TF.js's matMul of D = 64 takes seconds a step, and the suite minutes).
 */
export const TFJS_SHAPES: readonly TfjsBenchShape[] = [{ n: 64, d: 64, c: 1000 }, { n: 256, d: 16, c: 32000 }];
const QUICK_SHAPES: readonly TfjsBenchShape[] = [{ n: 64, d: 64, c: 1000 }];

const TASKS = ['step', 'loss+grad', 'loss'] as const;
const DESCRIPTIONS: Record<(typeof TASKS)[number], string> = {
  step: 'training step (forward, gradients, SGD update)',
  'loss+grad': 'loss and its gradient',
  loss: 'loss alone',
};

function format(value: number | null, digits = 2): string {
  return value === null ? '—' : value.toFixed(digits);
}

/** The table: per shape and task, each loss's median and TF.js's over ours. */
export function tfjsTable(rows: readonly TfjsRow[]): string {
  const lines = ['  shape [N, C] (D)        task                                            ours ms    TF.js ms   TF.js / ours   '
    + 'rel error (ours, TF.js)'];
  const shapes = [...new Set(rows.map((r) => JSON.stringify(r.shape)))].map((s) => JSON.parse(s) as number[]);
  for (const [n, d, c] of shapes) {
    for (const task of TASKS) {
      const of = (loss: 'ours' | 'tfjs') => rows.find((r) => r.task === task && r.loss === loss
        && r.shape[0] === n && r.shape[1] === d && r.shape[2] === c);
      const ours = of('ours');
      const tfjs = of('tfjs');
      if (!ours || !tfjs) continue;
      const ratio = ours.median_ms && tfjs.median_ms ? tfjs.median_ms / ours.median_ms : null;
      lines.push(`  ${`[${n}, ${c}] (${d})`.padEnd(22)} ${DESCRIPTIONS[task].padEnd(46)} ${format(ours.median_ms).padStart(8)}   `
        + `${format(tfjs.median_ms).padStart(8)}   ${`${format(ratio)}×`.padStart(12)}   `
        + `${ours.rel_error?.toExponential(1) ?? '—'}, ${tfjs.rel_error?.toExponential(1) ?? '—'}`);
    }
  }
  return lines.join('\n');
}

/** Runs the suite in `session` (its Vite server serves bench/tfjs.html) and reports it. */
export async function runTfjsBench(session: BrowserSession, options: { quick: boolean; rounds: number; warmup: number },
  log: (line: string) => void = console.log): Promise<TfjsRow[]> {
  const config: TfjsSuiteConfig = { shapes: options.quick ? QUICK_SHAPES : TFJS_SHAPES, rounds: options.rounds,
    warmup: options.warmup };
  await session.page.goto(session.url('/bench/tfjs.html'));
  await session.page.waitForFunction(() => window.tfjsBenchReady === true, { timeout: 120_000 });
  const result = await session.page.evaluate((c) => window.runTfjsSuite(c), config);
  const name = options.quick ? 'results-tfjs.partial' : 'results-tfjs';
  const folder = fileURLToPath(new URL('./', import.meta.url));
  writeFileSync(`${folder}${name}.json`, `${JSON.stringify({ adapter: result.adapter, config, rows: result.rows }, null, 2)}\n`);
  log(`\nTF.js: the adapter's loss against tf.losses.softmaxCrossEntropy inside TF.js (medians of ${config.rounds} rounds)\n\n`
    + `${tfjsTable(result.rows)}\n\nwrote bench/${name}.json`);
  return result.rows;
}
