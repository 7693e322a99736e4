// Prints bench/results.json as the Markdown tables the README shows: each implementation, then the
// floors, as medians over their roofline (read for forward, copy for forward + gradient), all from
// one run; then the performance targets against them (bench/targets.mjs).
//   node bench/summary.mjs
import { readFileSync } from 'node:fs';
import { findRow, rooflineMs, shapesOf } from './ratios.mjs';
import { targetTable } from './targets.mjs';

const { adapter, rows } = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8'));
const FLOORS = ['floor-exp-read', 'floor-exp-copy', 'floor-softmax-read', 'floor-softmax-copy', 'floor-exact-read',
  'floor-exact-copy'];
const IMPLEMENTATIONS = ['ours-forward', 'ours-forward-subgroups', 'ours-forward-grad', 'jaxjs-webgpu', 'jaxjs-webgpu-grad',
  'tfjs-webgpu', 'tfjs-webgpu-grad', 'cpu-reference'];

function cell(shape, impl) {
  const row = findRow(rows, shape, impl);
  const roof = rooflineMs(rows, shape, impl);
  if (!row) return '—';
  if (row.median_ms === null) return row.first_ms && roof ? `>${(row.first_ms / roof).toFixed(0)}×¹` : 'n/a²';
  return roof ? `${(row.median_ms / roof).toFixed(2)}×` : '—';
}

function milliseconds(shape, impl) {
  return findRow(rows, shape, impl)?.median_ms?.toFixed(1) ?? '—';
}

function table(columns) {
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
