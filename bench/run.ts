// npm run bench: drives bench/index.html in headless Chromium (the method of docs/performance.md),
// prints a table of each implementation's ratio to the roofline, and writes bench/results.json and
// bench/results.svg.
//
//   npm run bench                 every shape of docs/performance.md, 7 timed rounds after 2 warm-ups
//   npm run bench -- --quick      small shapes (a smoke run)
//   npm run bench -- --shapes 64x1000,4096x1000
// Partial runs (--quick, --shapes) write bench/results.partial.{json,svg} instead.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openBrowser } from '../scripts/browser.js';
import { ratioChart } from './chart.js';
import { FULL_RUN, QUICK_SHAPES, parseShapes, type BenchConfig } from './presets.js';
import { ratioToRoofline, shapesOf, type BenchRow } from './ratios.js';

function parseArgs(argv: string[]): BenchConfig & { partial: boolean } {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--shapes');
  const shapes = at >= 0 ? parseShapes(argv[at + 1] ?? '') : quick ? QUICK_SHAPES : FULL_RUN.shapes;
  // Every run, partial or not, times as many rounds as a full one.
  return { ...FULL_RUN, shapes, partial: quick || at >= 0 };
}

function format(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? '—' : value < 0.01 ? value.toExponential(1) : value.toFixed(digits);
}

function table(rows: readonly BenchRow[]): string {
  const lines: string[] = [];
  for (const shape of shapesOf(rows)) {
    const group = rows.filter((r) => JSON.stringify(r.shape) === JSON.stringify(shape));
    lines.push(`\n[${shape.join(', ')}]  (ratio = median / roofline median, in one run)`);
    lines.push('  impl                 median ms   × roofline   GB/s     rel error   first call ms');
    for (const r of group) {
      const ratio = ratioToRoofline(rows, shape, r.impl);
      lines.push(`  ${r.impl.padEnd(20)} ${format(r.median_ms, 3).padStart(10)}   ${format(ratio).padStart(10)}   `
        + `${format(r.gbps).padStart(6)}   ${format(r.rel_error).padStart(9)}   ${format(r.first_ms, 1).padStart(13)}`
        + `${r.note ? `   (${r.note})` : ''}`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const config = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const session = await openBrowser();
  const tty = process.stdout.isTTY;
  session.page.on('console', (message) => {
    const text = message.text();
    if (!text.startsWith('PROGRESS ')) return;
    const line = `bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${text.slice(9)}`;
    if (tty) process.stdout.write(`\r\x1b[K${line}`);
    else console.log(line);
  });
  try {
    await session.page.goto(session.url('/bench/index.html'));
    await session.page.waitForFunction(() => window.benchReady === true, { timeout: 120_000 });
    const result = await session.page.evaluate((c) => window.runBench(c), config);
    if (tty) process.stdout.write('\r\x1b[K');
    const output = { adapter: result.adapter, config, rows: result.rows, warnings: result.warnings };
    const folder = fileURLToPath(new URL('./', import.meta.url));
    // A run of some shapes must not replace the full run's results (the README's figures).
    const name = config.partial ? 'results.partial' : 'results';
    writeFileSync(`${folder}${name}.json`, `${JSON.stringify(output, null, 2)}\n`);
    writeFileSync(`${folder}${name}.svg`, ratioChart(output));
    console.log(`adapter: ${JSON.stringify(result.adapter.vendor)} ${JSON.stringify(result.adapter.architecture)}`);
    console.log(table(result.rows));
    for (const warning of result.warnings) console.log(`warning: uncaptured WebGPU error, ${warning}`);
    console.log(`\nwrote bench/${name}.json and bench/${name}.svg in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await session.close();
  }
}

await main();
