// npm run bench: drives bench/index.html in headless Chromium (the method of docs/performance.md),
// prints a table of each implementation's ratio to the roofline, and writes bench/results.json and
// bench/results.svg.
//
//   npm run bench                 every shape of docs/performance.md, 7 timed rounds after 2 warm-ups,
//                                 in float32 and, at five of them, float16 and bfloat16
//   npm run bench -- --quick      small shapes (a smoke run)
//   npm run bench -- --shapes 64x1000,4096x1000
//   npm run bench -- --dtypes float16,bfloat16      some suites only (float32, float16, bfloat16)
// --shapes sets the shapes of every suite that runs; the flags combine. Partial runs (--quick,
// --shapes, --dtypes) write bench/results.partial.{json,svg} instead.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openBrowser } from '../scripts/browser.js';
import type { HalfDtype } from '../src/index.js';
import { ratioChart } from './chart.js';
import { DTYPES, FULL_RUN, parseDtypes, parseShapes, QUICK_HALF_SHAPES, QUICK_SHAPES, type BenchConfig } from './presets.js';
import { dtypeOf, ratioToRoofline, shapesOf, timeOverFloat32, type BenchRow } from './ratios.js';

/** The value after a flag (`--shapes 64x1000`), or undefined when the flag is absent. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] ?? '' : undefined;
}

function parseArgs(argv: string[]): BenchConfig & { partial: boolean } {
  const quick = argv.includes('--quick');
  const shapesFlag = flagValue(argv, '--shapes');
  const dtypesFlag = flagValue(argv, '--dtypes');
  const dtypes = dtypesFlag === undefined ? DTYPES : parseDtypes(dtypesFlag);
  const given = shapesFlag === undefined ? undefined : parseShapes(shapesFlag);
  const shapes = given ?? (quick ? QUICK_SHAPES : FULL_RUN.shapes);
  const halfShapes = given ?? (quick ? QUICK_HALF_SHAPES : FULL_RUN.halfShapes!);
  const halfDtypes = dtypes.filter((d): d is HalfDtype => d !== 'float32');
  // Every run, partial or not, times as many rounds as a full one.
  return {
    ...FULL_RUN,
    shapes: dtypes.includes('float32') ? shapes : [],
    halfShapes: halfDtypes.length > 0 ? halfShapes : [],
    halfDtypes,
    partial: quick || given !== undefined || dtypesFlag !== undefined,
  };
}

function format(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? '—' : value < 0.01 ? value.toExponential(1) : value.toFixed(digits);
}

function table(rows: readonly BenchRow[]): string {
  const lines: string[] = [];
  for (const shape of shapesOf(rows)) {
    const group = rows.filter((r) => JSON.stringify(r.shape) === JSON.stringify(shape));
    lines.push(`\n[${shape.join(', ')}]  (ratio = median / roofline median of the same dtype; × float32 = median / `
      + 'float32 median of the same implementation; all in one run)');
    lines.push('  impl                 dtype      median ms   × roofline   × float32   GB/s     rel error   first call ms');
    for (const r of group) {
      const dtype = dtypeOf(r);
      const ratio = ratioToRoofline(rows, shape, r.impl, dtype);
      const overFloat32 = dtype === 'float32' ? null : timeOverFloat32(rows, shape, r.impl, dtype);
      lines.push(`  ${r.impl.padEnd(20)} ${dtype.padEnd(8)} ${format(r.median_ms, 3).padStart(10)}   ${format(ratio).padStart(10)}   `
        + `${format(overFloat32).padStart(9)}   ${format(r.gbps).padStart(6)}   ${format(r.rel_error).padStart(9)}   `
        + `${format(r.first_ms, 1).padStart(13)}${r.note ? `   (${r.note})` : ''}`);
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
