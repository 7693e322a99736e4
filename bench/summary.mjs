// Prints bench/results.json as the Markdown table the README shows: each implementation's median
// over its roofline (read for forward, copy for forward + gradient), all from one run.
//   node bench/summary.mjs
import { readFileSync } from 'node:fs';
import { findRow, rooflineMs, shapesOf } from './ratios.mjs';

const { adapter, rows } = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8'));
const columns = [
  'floor-exp-read', 'floor-exp-copy', 'floor-softmax-read', 'floor-softmax-copy', 'floor-exact-read',
  'floor-exact-copy', 'ours-forward', 'ours-forward-subgroups', 'ours-forward-grad', 'jaxjs-webgpu', 'jaxjs-webgpu-grad', 'tfjs-webgpu', 'tfjs-webgpu-grad',
  'cpu-reference',
];

function cell(shape, impl) {
  const row = findRow(rows, shape, impl);
  const roof = rooflineMs(rows, shape, impl);
  if (!row) return '—';
  if (row.median_ms === null) return row.first_ms && roof ? `>${(row.first_ms / roof).toFixed(0)}×¹` : 'n/a²';
  return roof ? `${(row.median_ms / roof).toFixed(2)}×` : '—';
}

console.log(`Adapter: ${adapter.vendor} ${adapter.architecture} (device limits: ${JSON.stringify(adapter.deviceLimits ?? {})})\n`);
console.log(`| shape | roofline-read ms | ${columns.join(' | ')} |`);
console.log(`|---|---:|${columns.map(() => '---:').join('|')}|`);
for (const shape of shapesOf(rows)) {
  const read = findRow(rows, shape, 'roofline-read')?.median_ms;
  console.log(`| [${shape.join(', ')}] | ${read?.toFixed(1) ?? '—'} | ${columns.map((impl) => cell(shape, impl)).join(' | ')} |`);
}
