// npm run bench: drives bench/index.html in headless Chromium (the method of docs/performance.md),
// prints a table of each implementation's ratio to the roofline, and writes bench/results.json and
// bench/results.svg.
//
//   npm run bench                 every shape of docs/performance.md, 7 timed rounds after 2 warm-ups,
//                                 in float32 and, at five of them, float16 and bfloat16; then the
//                                 linear suite, then the TF.js suite (bench/tfjs-run.ts)
//   npm run bench -- --quick      small shapes (a smoke run)
//   npm run bench -- --shapes 64x1000,4096x1000
//   npm run bench -- --dtypes float16,bfloat16      some suites only (float32, float16, bfloat16)
//   npm run bench -- --suite linear                 the linear head's suite only: bench/results-linear.json
//   npm run bench -- --suite linear --linear-shapes 64x64x50257     its shapes, N x D x V
//   npm run bench -- --suite linear --linear-shapes 1024x8x50257 --memory-budget 16777216   ours' memoryBudget there
//   npm run bench -- --suite tfjs                   the TF.js adapter's suite only: bench/results-tfjs.json
// --shapes sets the shapes of every softmax suite that runs; the flags combine. --suite takes
// softmax (the float32 and 16-bit suites), linear, tfjs, or several, comma-separated (default: all,
// or the suite whose shapes are given); --dtypes picks the linear suite's dtypes too (float32, float16).
// Partial runs (--quick, --shapes, --linear-shapes, --dtypes) write bench/results.partial.* instead.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openBrowser, type BrowserSession } from '../scripts/browser.js';
import type { HalfDtype } from '../src/index.js';
import { ratioChart } from './chart.js';
import { linearRows, linearTable, linearTargetTable, softmaxRows } from './linear-report.js';
import { echoProgress } from './progress.js';
import type { BenchResult } from './run-bench.js';
import { runTfjsBench } from './tfjs-run.js';
import {
  DTYPES, FULL_RUN, LINEAR_SUITE, parseDtypes, parseShapes, QUICK_HALF_SHAPES, QUICK_LINEAR_SUITE, QUICK_SHAPES,
  type BenchConfig, type LinearDtype,
} from './presets.js';
import { dtypeOf, ratioToRoofline, shapesOf, timeOverFloat32, type BenchRow } from './ratios.js';

/** The value after a flag (`--shapes 64x1000`), or undefined when the flag is absent. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] ?? '' : undefined;
}

const SUITES = ['softmax', 'linear', 'tfjs'] as const;

/**
 * Which suites run: --suite softmax,linear,tfjs. Without it, all; --shapes alone asks for the
 * softmax suites only, --linear-shapes alone for the linear suite only.
 */
function parseSuites(text: string | undefined, shapesGiven: boolean, linearShapesGiven: boolean): (typeof SUITES)[number][] {
  if (text === undefined) {
    if (shapesGiven !== linearShapesGiven) return shapesGiven ? ['softmax'] : ['linear'];
    return [...SUITES];
  }
  const suites = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const suite of suites) {
    if (!(SUITES as readonly string[]).includes(suite)) throw new RangeError(`suite "${suite}": expected ${SUITES.join(' or ')}`);
  }
  if (suites.length === 0) throw new RangeError(`--suite: expected ${SUITES.join(' or ')}`);
  return suites as (typeof SUITES)[number][];
}

type RunConfig = BenchConfig & { partial: boolean; softmax: boolean; tfjs: boolean; quick: boolean };

function parseArgs(argv: string[]): RunConfig {
  const quick = argv.includes('--quick');
  const shapesFlag = flagValue(argv, '--shapes');
  const dtypesFlag = flagValue(argv, '--dtypes');
  const linearShapesFlag = flagValue(argv, '--linear-shapes');
  const suites = parseSuites(flagValue(argv, '--suite'), shapesFlag !== undefined, linearShapesFlag !== undefined);
  const budgetFlag = flagValue(argv, '--memory-budget');
  const budget = budgetFlag === undefined ? undefined : Number(budgetFlag);
  if (budget !== undefined && !(Number.isInteger(budget) && budget > 0)) {
    throw new RangeError(`--memory-budget: expected a positive number of bytes, not ${budgetFlag}`);
  }
  const dtypes = dtypesFlag === undefined ? DTYPES : parseDtypes(dtypesFlag);
  const given = shapesFlag === undefined ? undefined : parseShapes(shapesFlag);
  const shapes = given ?? (quick ? QUICK_SHAPES : FULL_RUN.shapes);
  const halfShapes = given ?? (quick ? QUICK_HALF_SHAPES : FULL_RUN.halfShapes!);
  const halfDtypes = dtypes.filter((d): d is HalfDtype => d !== 'float32');
  const softmax = suites.includes('softmax');
  const base = quick ? QUICK_LINEAR_SUITE : LINEAR_SUITE;
  const linearShapes = linearShapesFlag === undefined ? base.shapes : parseShapes(linearShapesFlag).map((shape) => {
    if (shape.length !== 3) throw new RangeError(`linear shape [${shape.join(', ')}]: expected N x D x V`);
    return { shape: shape as [number, number, number], ...(budget === undefined ? {} : { memoryBudget: budget }) };
  });
  const linearDtypes = base.dtypes.filter((d) => dtypes.includes(d)) as LinearDtype[];
  // The GFLOPS pair is float32: it runs where the float32 suite does.
  const linear = suites.includes('linear') && linearDtypes.length > 0 ? {
    ...base, shapes: linearShapes, dtypes: linearDtypes, matmulShapes: linearDtypes.includes('float32') ? base.matmulShapes : [],
  } : undefined;
  // Every run, partial or not, times as many rounds as a full one.
  return {
    ...FULL_RUN,
    shapes: softmax && dtypes.includes('float32') ? shapes : [],
    halfShapes: softmax && halfDtypes.length > 0 ? halfShapes : [],
    halfDtypes,
    ...(linear ? { linear } : {}),
    softmax,
    tfjs: suites.includes('tfjs'),
    quick,
    partial: quick || given !== undefined || dtypesFlag !== undefined || linearShapesFlag !== undefined,
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

/** Opens bench/index.html afresh (a new page context and device) and runs `config` there. */
async function runOnFreshPage(session: BrowserSession, config: BenchConfig): Promise<BenchResult> {
  await session.page.goto(session.url('/bench/index.html'));
  await session.page.waitForFunction(() => window.benchReady === true, { timeout: 120_000 });
  return session.page.evaluate((c) => window.runBench(c), config);
}

async function main(): Promise<void> {
  const config = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const session = await openBrowser();
  const tty = echoProgress(session, started);
  try {
    if (config.softmax || config.linear !== undefined) {
      // Each suite on a page of its own, so that one suite's failures (a peer at a shape over one
      // binding) cannot reach the next through a shared device or a peer's backend state.
      const results: BenchResult[] = [];
      if (config.shapes.length > 0 || (config.halfShapes ?? []).length > 0) {
        const { linear: _, ...softmaxOnly } = config;
        results.push(await runOnFreshPage(session, softmaxOnly));
      }
      if (config.linear !== undefined) results.push(await runOnFreshPage(session, { ...config, shapes: [], halfShapes: [] }));
      if (tty) process.stdout.write('\r\x1b[K');
      const result = { rows: results.flatMap((r) => r.rows), warnings: results.flatMap((r) => r.warnings) };
      const output = { adapter: results[0]!.adapter, config, rows: result.rows, warnings: result.warnings };
      const folder = fileURLToPath(new URL('./', import.meta.url));
      // A run of some shapes must not replace the full run's results (the README's figures); the
      // linear suite alone has a results file of its own.
      const name = config.partial ? 'results.partial' : config.softmax ? 'results' : 'results-linear';
      writeFileSync(`${folder}${name}.json`, `${JSON.stringify(output, null, 2)}\n`);
      const softmax = softmaxRows(result.rows);
      const linear = linearRows(result.rows);
      if (config.softmax) writeFileSync(`${folder}${name}.svg`, ratioChart({ ...output, rows: softmax }));
      console.log(`adapter: ${JSON.stringify(output.adapter.vendor)} ${JSON.stringify(output.adapter.architecture)}`);
      if (softmax.length > 0) console.log(table(softmax));
      if (linear.length > 0) {
        console.log(`\nLinear head (a call: the loss and three gradients; ratios within this run)\n\n${linearTable(linear)}`
          + `\n\n${linearTargetTable(linear)}`);
      }
      for (const warning of result.warnings) console.log(`warning: uncaptured WebGPU error, ${warning}`);
      const wrote = `bench/${name}.json${config.softmax ? ` and bench/${name}.svg` : ''}`;
      console.log(`\nwrote ${wrote} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    // The TF.js adapter's suite, on a page and a device of its own (docs/tfjs.md).
    if (config.tfjs) {
      await runTfjsBench(session, { quick: config.quick, rounds: config.rounds, warmup: config.warmup },
        (line) => console.log(`${tty ? '\r\x1b[K' : ''}${line}`));
      console.log(`in ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
    }
  } finally {
    await session.close();
  }
}

await main();
