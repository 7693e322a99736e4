/**
 * The seeds' worked example on the page: p = [0.7, 0.2, 0.1], true class A. The GPU computes the
 * loss; the float64 reference checks it. Without WebGPU the page says so and shows the reference.
 */
import { CrossEntropy, compareWithReference, crossEntropyReference, describeComparison } from '../src/index.js';

const CLASS_NAMES = ['A', 'B', 'C'];
/** Exact decimal values in float64 for the reference; the GPU reads them rounded to f32. */
const probabilities = new Float64Array([0.7, 0.2, 0.1]);
const trueClass = 0;

const logits = { data: probabilities, shape: [3] };
const gpuLogits = { data: Float32Array.from(probabilities), shape: [3] };
const target = { data: new Int32Array([trueClass]), shape: [] };
const options = { input: 'probabilities' } as const;

function show(id: string, text: string, className?: string): void {
  const element = document.getElementById(id)!;
  element.textContent = text;
  if (className) element.className = className;
}

function fillClassTable(): void {
  const body = document.querySelector('#classes tbody')!;
  CLASS_NAMES.forEach((name, c) => {
    const row = document.createElement('tr');
    if (c === trueClass) row.className = 'true-class';
    const p = probabilities[c]!;
    for (const [text, numeric] of [[name, false], [c === trueClass ? '1' : '0', true],
      [p.toFixed(4), true], [(-Math.log(p)).toFixed(6), true]] as const) {
      const cell = document.createElement('td');
      cell.textContent = text;
      if (numeric) cell.className = 'num';
      row.append(cell);
    }
    body.append(row);
  });
}

async function main(): Promise<void> {
  fillClassTable();
  const reference = crossEntropyReference(logits, target, options);
  show('reference-loss', (reference.loss as number).toPrecision(17));

  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) {
    show('adapter', 'WebGPU is not available in this browser. Use a recent Chrome or Edge (or Chromium with '
      + '--enable-unsafe-webgpu), served from https:// or http://localhost. The reference still runs on the CPU.',
      'adapter missing');
    show('gpu-loss', 'no WebGPU');
    show('check', 'skipped');
    return;
  }
  const info = adapter.info;
  show('adapter', `Adapter: ${info.vendor || 'unknown vendor'} ${info.architecture || ''} ${info.description || ''}`.trim());
  const ce = await CrossEntropy.create();
  try {
    const gpu = await ce.forward(gpuLogits, target, options);
    show('gpu-loss', gpu.loss.toPrecision(9));
    const check = compareWithReference(gpu, reference);
    show('check', describeComparison(check.loss), check.ok ? 'pass' : 'fail');
  } finally {
    ce.destroy();
  }
}

main().catch((error: unknown) => {
  show('check', `error: ${error instanceof Error ? error.message : String(error)}`, 'fail');
});
