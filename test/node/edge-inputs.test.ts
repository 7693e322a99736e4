/**
 * Inputs that are valid but at the edges: empty batches and zero-size dimensions (PyTorch's
 * results: 'mean' of nothing is NaN, 'sum' is 0, 'none' is empty), and non-finite logits, which
 * PyTorch accepts and propagates. Each call leaves the instance usable; none returns a finite number
 * where the true value is not one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference, type Reduction } from '../../src/index.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();
const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** Logits of `shape` (N, C, d...) filled with `fill(i)`, and class indices 0 for every row. */
function problem(shape: number[], fill: (i: number) => number = (i) => Math.sin(i)) {
  const [n = 1, c = 1, ...spatial] = shape;
  const rows = n * spatial.reduce((a, b) => a * b, 1);
  const logits = { data: Float32Array.from({ length: rows * c }, (_, i) => fill(i)), shape };
  const target = { data: new Int32Array(rows), shape: [n, ...spatial] };
  return { logits, target };
}

describe.skipIf(!device)('edge inputs', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  /** After each case: the same instance still computes an ordinary problem correctly. */
  async function expectUsable(): Promise<void> {
    const p = problem([3, 4]);
    expectMatchesReference(await ce.forward(p.logits, p.target, { grad: true }), crossEntropyReference(p.logits, p.target, { grad: true }));
  }

  it.each(REDUCTIONS.flatMap((reduction) => [[0, 5], [0, 3, 4], [2, 3, 0], [3, 4, 2, 0]].map((shape) => ({ reduction, shape }))))(
    'an empty batch $shape, $reduction: as the reference (and PyTorch)', async ({ reduction, shape }) => {
      const p = problem(shape);
      const options = { reduction, grad: true };
      const gpu = await ce.forward(p.logits, p.target, options);
      const reference = crossEntropyReference(p.logits, p.target, options);
      expectMatchesReference(gpu, reference, `${JSON.stringify(shape)} ${reduction}`);
      if (reduction === 'mean') expect(gpu.loss).toBeNaN();
      if (reduction === 'sum') expect(gpu.loss).toBe(0);
      if (reduction === 'none') expect((gpu.loss as Float32Array).length).toBe(0);
      expect(gpu.grad!.length).toBe(0);
      await expectUsable();
    });

  it('a NaN logit makes its row\'s loss NaN, and the mean NaN', async () => {
    const p = problem([3, 5]);
    p.logits.data[6] = NaN;
    const none = await ce.forward(p.logits, p.target, { reduction: 'none' });
    const reference = crossEntropyReference(p.logits, p.target, { reduction: 'none' }).loss as Float64Array;
    expect(Number.isNaN((none.loss as Float32Array)[1])).toBe(true);
    expect(Number.isNaN(reference[1]!)).toBe(true);
    expect([0, 2].map((row) => Math.abs((none.loss as Float32Array)[row]! - reference[row]!) < 1e-5)).toEqual([true, true]);
    expect((await ce.forward(p.logits, p.target)).loss).toBeNaN();
    await expectUsable();
  });

  // [2, 3, 8]: K-dimensional rows taken four at a time as vec4 lanes (plan.lanes).
  it('a NaN logit makes its K-dimensional row\'s loss NaN, and only that row\'s', async () => {
    const p = problem([2, 3, 8]);
    const row = 13;  // sample 1, position 5: its class 1 is at (1 * 3 + 1) * 8 + 5
    p.logits.data[(1 * 3 + 1) * 8 + 5] = NaN;
    const none = await ce.forward(p.logits, p.target, { reduction: 'none' });
    const reference = crossEntropyReference(p.logits, p.target, { reduction: 'none' }).loss as Float64Array;
    const loss = none.loss as Float32Array;
    expect(Number.isNaN(loss[row])).toBe(true);
    expect(Number.isNaN(reference[row]!)).toBe(true);
    for (let r = 0; r < 16; r++) if (r !== row) expect(Math.abs(loss[r]! - reference[r]!), `row ${r}`).toBeLessThan(1e-5);
    await expectUsable();
  });

  it.each([[4, 8], [2, 3, 8], [3, 5]].map((shape) => ({ shape })))('ignored rows of $shape holding NaN and inf get a gradient of exactly 0', async ({ shape }) => {
    const p = problem(shape);
    const [n = 1, c = 1, ...spatial] = shape;
    const inner = spatial.reduce((a, b) => a * b, 1);
    const at = (row: number, cls: number) => (Math.floor(row / inner) * c + cls) * inner + (row % inner);
    // Rows 1 and 2 are ignored; row 1 holds a NaN, row 2 a +inf (a row of NaN lse and NaN p).
    p.target.data[1] = -100;
    p.target.data[2] = -100;
    p.logits.data[at(1, 0)] = NaN;
    p.logits.data[at(2, c - 1)] = Infinity;
    const options = { grad: true, reduction: 'sum' as const };
    const gpu = await ce.forward(p.logits, p.target, options);
    const reference = crossEntropyReference(p.logits, p.target, options);
    for (const row of [1, 2]) {
      for (let cls = 0; cls < c; cls++) expect(gpu.grad![at(row, cls)], `row ${row} class ${cls}`).toBe(0);
    }
    expectMatchesReference(gpu, reference, JSON.stringify(shape));
    expect(n * inner).toBeGreaterThan(2);
    await expectUsable();
  });

  it.each([Infinity, -Infinity])('a row holding %s is not finite: never a silently finite loss', async (value) => {
    const p = problem([2, 4]);
    // Row 0's target class (0) and another class take the value.
    p.logits.data[0] = value;
    p.logits.data[2] = value;
    const gpu = await ce.forward(p.logits, p.target, { reduction: 'none', grad: true });
    const reference = crossEntropyReference(p.logits, p.target, { reduction: 'none', grad: true });
    expect(Number.isFinite((gpu.loss as Float32Array)[0])).toBe(false);
    expect(Number.isFinite((reference.loss as Float64Array)[0])).toBe(false);
    // The other row is untouched.
    expect(Math.abs((gpu.loss as Float32Array)[1]! - (reference.loss as Float64Array)[1]!)).toBeLessThan(1e-5);
    await expectUsable();
  });

  it('softcap keeps a logit near 0 relatively exact: cap tanh(x / cap) ≈ x, not 0', async () => {
    // One class per row: the row statistics' target logit is the softcapped logit itself.
    const xs = [3.9e-9, -1e-6, 1e-4, 0.01, -0.1, 0.29, 0.31, 1, -5];
    const logits = { data: Float32Array.from(xs), shape: [xs.length, 1] };
    const stats = await ce.rowStatistics(logits, { data: new Int32Array(xs.length), shape: [xs.length] }, { softcap: 1 });
    const relativeErrors = xs.map((x, i) => Math.abs(stats.targetLogit[i]! / Math.tanh(Math.fround(x)) - 1));
    expect(Math.max(...relativeErrors), relativeErrors.map((e) => e.toExponential(1)).join(' ')).toBeLessThan(1e-6);
    await expectUsable();
  });
});
