// Prints bench/results.json as the Markdown tables the README shows: each implementation, then the
// floors, as medians over their roofline (read for forward, copy for forward + gradient), all from
// one run; then the performance targets against them (bench/targets.ts).
//   npm run bench:summary [results.json]
import { readFileSync } from 'node:fs';
import { IMPLS } from './chart.js';
import { findRow, rooflineMs, shapesOf, type BenchRow } from './ratios.js';
import { targetTable } from './targets.js';

const file = process.argv[2] ?? new URL('./results.json', import.meta.url);
const { adapter, rows } = JSON.parse(readFileSync(file, 'utf8')) as {
  adapter: { vendor: string; architecture: string; deviceLimits?: object }; rows: BenchRow[];
};
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
  for (const shape of shapesOf(rows)) {
    console.log(`| [${shape.join(', ')}] | ${milliseconds(shape, 'roofline-read')} | ${milliseconds(shape, 'roofline-copy')} | `
      + `${columns.map((impl) => cell(shape, impl)).join(' | ')} |`);
  }
}

console.log(`Adapter: ${adapter.vendor} ${adapter.architecture} (device limits: ${JSON.stringify(adapter.deviceLimits ?? {})})\n`);
table(IMPLEMENTATIONS);
console.log('');
table(FLOORS);
console.log('');
console.log(targetTable(rows));
