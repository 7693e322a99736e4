// Prints bench/results.json as the Markdown table the README shows: each implementation's median
// over its roofline (read for forward, copy for forward + gradient), all from one run.
//   node bench/summary.mjs
import { readFileSync } from 'node:fs';

const { adapter, rows } = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8'));
const shapes = [...new Set(rows.map((r) => JSON.stringify(r.shape)))];
const columns = [
  ['ours-forward', 'roofline-read'], ['ours-forward-grad', 'roofline-copy'],
  ['jaxjs-webgpu', 'roofline-read'], ['jaxjs-webgpu-grad', 'roofline-copy'],
  ['tfjs-webgpu', 'roofline-read'], ['tfjs-webgpu-grad', 'roofline-copy'],
  ['cpu-reference', 'roofline-read'],
];

function cell(key, impl, base) {
  const find = (name) => rows.find((r) => JSON.stringify(r.shape) === key && r.impl === name);
  const row = find(impl);
  const roof = find(base)?.median_ms ?? find('roofline-read')?.median_ms;
  if (!row) return '—';
  if (row.median_ms === null) return row.first_ms && roof ? `>${(row.first_ms / roof).toFixed(0)}×¹` : 'n/a²';
  return roof ? `${(row.median_ms / roof).toFixed(2)}×` : '—';
}

console.log(`Adapter: ${adapter.vendor} ${adapter.architecture} (device limits: ${JSON.stringify(adapter.deviceLimits ?? {})})\n`);
console.log(`| shape | roofline-read ms | ${columns.map(([impl]) => impl).join(' | ')} |`);
console.log(`|---|---:|${columns.map(() => '---:').join('|')}|`);
for (const key of shapes) {
  const read = rows.find((r) => JSON.stringify(r.shape) === key && r.impl === 'roofline-read')?.median_ms;
  console.log(`| [${JSON.parse(key).join(', ')}] | ${read?.toFixed(1) ?? '—'} | ${columns.map(([impl, base]) => cell(key, impl, base)).join(' | ')} |`);
}
