/**
 * Headless Chromium through puppeteer: a page served by Vite on localhost loads the library's source,
 * runs cases on the browser's own WebGPU adapter, and returns raw results that are checked here, in
 * Node, against the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossEntropyReference, type HalfDtype } from '../../src/index.js';
import { openBrowser, chromiumPath, type BrowserSession } from '../helpers/browser.js';
import { buildCase, caseName, toHalfCase, type CaseSpec } from '../../problems/cases.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { inCI } from '../helpers/webgpu-node.js';
import type { AdapterSummary, WireCase, WireResult } from './harness.js';
import { fromBase64, toBase64 } from './transfer.js';

const SPECS: CaseSpec[] = [
  { shape: [64, 1000], targetKind: 'classIndex', reduction: 'mean', weighted: false, labelSmoothing: 0,
    ignoredFraction: 0.1, values: 'normal', seed: 1, grad: true },
  { shape: [4, 1025], targetKind: 'probabilities', reduction: 'none', weighted: true, labelSmoothing: 0.1,
    ignoredFraction: 0, values: 'normal', seed: 2, grad: true },
  { shape: [8, 500], targetKind: 'classIndex', reduction: 'sum', weighted: true, labelSmoothing: 0.1,
    ignoredFraction: 0.1, values: 'normal', seed: 8, grad: true, zLoss: 1e-3, softcap: 5 },
  { shape: [2, 21, 16, 16], targetKind: 'classIndex', reduction: 'sum', weighted: true, labelSmoothing: 0.2,
    ignoredFraction: 0.2, values: 'pm88', seed: 3 },
  { shape: [33, 100], targetKind: 'classIndex', reduction: 'none', weighted: false, labelSmoothing: 0,
    ignoredFraction: 0, values: 'masked', seed: 4 },
  { shape: [2, 32000], targetKind: 'classIndex', reduction: 'mean', weighted: true, labelSmoothing: 0.1,
    ignoredFraction: 0, values: 'pm1e4', seed: 5 },
  { shape: [70000, 3], targetKind: 'classIndex', reduction: 'mean', weighted: false, labelSmoothing: 0,
    ignoredFraction: 0.3, values: 'normal', seed: 6 },
  { shape: [16, 10], targetKind: 'classIndex', input: 'probabilities', reduction: 'none', weighted: false,
    labelSmoothing: 0, ignoredFraction: 0, values: 'normal', seed: 7 },
];

/** 16-bit logits: float16 as a Float16Array (the browser has one), bfloat16 as bit patterns. */
const HALF_SPECS: { spec: CaseSpec; dtype: HalfDtype }[] = [
  { spec: { shape: [64, 1001], targetKind: 'classIndex', reduction: 'mean', weighted: true, labelSmoothing: 0.1,
    ignoredFraction: 0.1, values: 'normal', seed: 11, grad: true }, dtype: 'float16' },
  { spec: { shape: [3, 5, 8], targetKind: 'probabilities', reduction: 'none', weighted: false, labelSmoothing: 0,
    ignoredFraction: 0, values: 'pm88', seed: 12, grad: true }, dtype: 'bfloat16' },
];

const built = [
  ...SPECS.map((spec) => ({ spec, name: caseName(spec), ...buildCase(spec) })),
  ...HALF_SPECS.map(({ spec, dtype }) => ({ spec, name: `${dtype} ${caseName(spec)}`, ...toHalfCase(buildCase(spec), dtype) })),
];

function toWire(c: (typeof built)[number]): WireCase {
  const { weight, gradOutput, ...options } = c.options;
  const dtype = 'dtype' in c.logits ? c.logits.dtype : undefined;
  return {
    logits: { data: toBase64(c.logits.data), shape: c.logits.shape,
      ...(dtype ? { dtype, asFloat16Array: dtype === 'float16' } : {}) },
    target: { data: toBase64(c.target.data), kind: c.target.data instanceof Int32Array ? 'int32' : 'float32',
      shape: c.target.shape },
    options: {
      ...options,
      ...(weight ? { weight: toBase64(weight) } : {}),
      ...(gradOutput ? { gradOutput: toBase64(gradOutput) } : {}),
    },
  };
}

const hasChromium = chromiumPath() !== undefined;
if (!hasChromium && inCI) throw new Error('Chromium is required under CI (apt-get install chromium)');

describe.skipIf(!hasChromium)('in headless Chromium', () => {
  let session: BrowserSession;
  let adapter: AdapterSummary | null = null;
  let results: WireResult[] = [];

  beforeAll(async () => {
    session = await openBrowser();
    await session.page.goto(session.url('/test/browser/harness.html'));
    await session.page.waitForFunction(() => window.harnessReady === true, { timeout: 60_000 });
    ({ adapter, results } = await session.page.evaluate(
      (cases) => window.runCrossEntropyCases(cases), built.map(toWire)));
  }, 180_000);
  afterAll(async () => session?.close());

  it('finds a WebGPU adapter (required under CI)', ({ skip }) => {
    if (adapter === null && !inCI) skip('no WebGPU adapter in this Chromium');
    expect(adapter, 'navigator.gpu.requestAdapter() returned null').not.toBeNull();
    console.log(`browser adapter: ${JSON.stringify({ ...adapter, features: adapter!.features.length })}`);
  });

  it.for(built.map((c, index) => ({ c, index, name: c.name })))('$name', ({ c, index, name }, { skip }) => {
    if (adapter === null && !inCI) skip('no WebGPU adapter in this Chromium');
    const wire = results[index]!;
    const half = 'dtype' in c.logits;
    // Chromium has Float16Array: the float16 case goes in as one.
    expect(wire.float16Array === true).toBe('dtype' in c.logits && c.logits.dtype === 'float16');
    const loss = typeof wire.loss === 'number' ? wire.loss : new Float32Array(fromBase64(wire.loss));
    const grad = wire.grad === undefined ? undefined
      : half ? new Uint16Array(fromBase64(wire.grad)) : new Float32Array(fromBase64(wire.grad));
    expect(grad === undefined, 'a gradient comes back exactly when asked for').toBe(!c.options.grad);
    expectMatchesReference({ loss, ...(grad ? { grad } : {}) }, crossEntropyReference(c.logits, c.target, c.options), name);
  });
});
