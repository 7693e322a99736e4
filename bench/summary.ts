// Prints bench/results.json as the Markdown tables the README shows: each implementation, then the
// floors, as medians over their roofline (read for forward, copy for forward + gradient), all from
// one run; then the 16-bit suites, against their own rooflines and against float32; then the
// performance targets against them (bench/targets.ts); then the linear suite's table and targets
// (bench/linear-report.ts), where the file has them (bench/results-linear.json).
//   npm run bench:summary [results.json]
import { readFileSync } from 'node:fs';
import type { HalfDtype } from '../src/index.js';
import { IMPLS } from './chart.js';
import { HALF_DTYPES } from './presets.js';
import { findRow, ratioToRoofline, rooflineMs, shapesOf, timeOverFloat32, type BenchRow } from './ratios.js';
import { linearRows, linearTable, linearTargetTable, softmaxRows } from './linear-report.js';
import { halfTargetTable, targetTable } from './targets.js';

const file = process.argv[2] ?? new URL('./results.json', import.meta.url);
const { adapter, rows: allRows } = JSON.parse(readFileSync(file, 'utf8')) as {
  adapter: { vendor: string; architecture: string; deviceLimits?: object }; rows: BenchRow[];
};
const rows = softmaxRows(allRows);
const linear = linearRows(allRows);
const FLOORS = IMPLS.filter((entry) => entry.kind === 'floor').map((entry) => entry.impl);
const IMPLEMENTATIONS = IMPLS.filter((entry) => entry.kind === 'implementation').map((entry) => entry.impl);

function cell(shape: number[], impl: string): string {
  const row = findRow(rows, shape, impl);
  const roof = rooflineMs(rows, shape, impl);
  if (!row) return '—';
  if (row.median_ms === null) return row.first_ms && roof ? `>${(row.first_ms / roof).toFixed(0)}×¹` : 'n/a²';
  return roof ? `${(row.median_ms / roof).toFixed(2)}×` : '—';
}

function milliseconds(shape: number[], impl: string): string {
  return findRow(rows, shape, impl)?.median_ms?.toFixed(1) ?? '—';
}

function table(columns: readonly string[]): void {
  console.log(`| shape | roofline-read ms | roofline-copy ms | ${columns.join(' | ')} |`);
  console.log(`|---|---:|---:|${columns.map(() => '---:').join('|')}|`);
  for (const shape of shapesOf(rows, 'float32')) {
    console.log(`| [${shape.join(', ')}] | ${milliseconds(shape, 'roofline-read')} | ${milliseconds(shape, 'roofline-copy')} | `
      + `${columns.map((impl) => cell(shape, impl)).join(' | ')} |`);
  }
}

const ratio = (value: number | null) => (value === null ? '—' : `${value.toFixed(2)}×`);

/**
 * The 16-bit suites: per shape and dtype, the 16-bit rooflines (milliseconds, and over the float32
 * ones), ours over its 16-bit roofline, and ours' 16-bit time over its float32 time.
 */
function halfTable(): void {
  console.log('| shape | dtype | roofline-read ms | roofline-copy ms | roofline-read / float32 | roofline-copy / float32 '
    + '| ours-forward | ours-forward-grad | forward / float32 | + gradient / float32 |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const halfShapes = shapesOf(rows.filter((row) => HALF_DTYPES.includes(row.dtype as HalfDtype)));
  for (const shape of halfShapes) {
    for (const dtype of HALF_DTYPES.filter((d) => findRow(rows, shape, 'roofline-read', d) || findRow(rows, shape, 'ours-forward', d))) {
      const ms = (impl: string) => findRow(rows, shape, impl, dtype)?.median_ms?.toFixed(1) ?? '—';
      const over = (impl: string) => ratio(timeOverFloat32(rows, shape, impl, dtype));
      const toRoofline = (impl: string) => ratio(ratioToRoofline(rows, shape, impl, dtype));
      console.log(`| [${shape.join(', ')}] | ${dtype} | ${ms('roofline-read')} | ${ms('roofline-copy')} | `
        + `${over('roofline-read')} | ${over('roofline-copy')} | ${toRoofline('ours-forward')} | ${toRoofline('ours-forward-grad')} | `
        + `${over('ours-forward')} | ${over('ours-forward-grad')} |`);
    }
  }
}

console.log(`Adapter: ${adapter.vendor} ${adapter.architecture} (device limits: ${JSON.stringify(adapter.deviceLimits ?? {})})\n`);
if (shapesOf(rows, 'float32').length > 0) {
  table(IMPLEMENTATIONS);
  console.log('');
  table(FLOORS);
  console.log('');
}
const hasHalf = HALF_DTYPES.some((dtype) => shapesOf(rows, dtype).length > 0);
if (hasHalf) {
  halfTable();
  console.log('');
}
if (rows.length > 0) console.log(targetTable(rows));
if (hasHalf) {
  console.log('');
  console.log(halfTargetTable(rows));
}
if (linear.length > 0) {
  console.log(`${rows.length > 0 ? '\n' : ''}${linearTable(linear)}\n\n${linearTargetTable(linear)}`);
}
