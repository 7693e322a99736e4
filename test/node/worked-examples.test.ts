/**
 * Values computed independently of both implementations: docs/semantics.md's worked examples and cases
 * derived by hand, checked on the GPU and in the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference } from '../../src/index.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

/** -log(0.7): the worked example of docs/semantics.md. */
const MINUS_LOG_0_7 = 0.35667494393873245;

describe.skipIf(!device)('worked examples on the GPU and in the reference', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it('three classes A/B/C, p = [0.7, 0.2, 0.1], true class A', async () => {
    const logits = { data: new Float32Array([0.7, 0.2, 0.1]), shape: [3] };
    const target = { data: new Int32Array([0]), shape: [] };
    const gpu = await ce.forward(logits, target, { input: 'probabilities' });
    const ref = crossEntropyReference(logits, target, { input: 'probabilities' });
    expect(ref.loss).toBeCloseTo(MINUS_LOG_0_7, 7);
    expect(gpu.loss).toBeCloseTo(MINUS_LOG_0_7, 6);
    expect(Math.abs(gpu.loss - MINUS_LOG_0_7) / MINUS_LOG_0_7).toBeLessThan(1e-6);
  });

  it('ten digits, true class 3 with p = 0.7', async () => {
    const p = [0.1, 0.05, 0.1, 0.7, 0.02, 0.01, 0.01, 0.005, 0.01, 0.005];
    const logits = { data: new Float32Array(p), shape: [1, 10] };
    const target = { data: new Int32Array([3]), shape: [1] };
    for (const reduction of ['mean', 'sum'] as const) {
      const gpu = await ce.forward(logits, target, { input: 'probabilities', reduction });
      expect(Math.abs(gpu.loss - MINUS_LOG_0_7) / MINUS_LOG_0_7).toBeLessThan(1e-6);
    }
    const none = await ce.forward(logits, target, { input: 'probabilities', reduction: 'none' });
    expect(none.loss).toHaveLength(1);
    expect(Math.abs(none.loss[0]! - MINUS_LOG_0_7)).toBeLessThan(1e-6);
  });

  it('logits whose softmax is [0.7, 0.2, 0.1] give the same loss', async () => {
    const logits = { data: new Float32Array([Math.log(0.7), Math.log(0.2), Math.log(0.1)]), shape: [3] };
    const target = { data: new Int32Array([0]), shape: [] };
    const gpu = await ce.forward(logits, target);
    expect(Math.abs(gpu.loss - MINUS_LOG_0_7)).toBeLessThan(1e-6);
  });

  it('equal logits give log C for every row', async () => {
    const C = 7;
    const logits = { data: new Float32Array(3 * C).fill(2.5), shape: [3, C] };
    const target = { data: new Int32Array([0, 3, 6]), shape: [3] };
    const gpu = await ce.forward(logits, target, { reduction: 'none' });
    for (const v of gpu.loss) expect(Math.abs(v - Math.log(C))).toBeLessThan(1e-6);
  });

  it('two classes: loss = log(1 + e^(x1 - x0)) for target 0', async () => {
    const logits = { data: new Float32Array([1, 3, -2, 0.5]), shape: [2, 2] };
    const target = { data: new Int32Array([0, 1]), shape: [2] };
    const gpu = await ce.forward(logits, target, { reduction: 'none' });
    expect(gpu.loss[0]).toBeCloseTo(Math.log1p(Math.exp(3 - 1)), 6);
    expect(gpu.loss[1]).toBeCloseTo(Math.log1p(Math.exp(-2 - 0.5)), 6);
  });

  it("weighted 'mean' divides by the sum of the targets' weights", async () => {
    // Rows: target 0 with loss a, target 1 with loss b; weights [2, 3]: mean = (2a + 3b) / 5.
    const logits = { data: new Float32Array([0, 0, 0, Math.log(3)]), shape: [2, 2] };
    const target = { data: new Int32Array([0, 1]), shape: [2] };
    const weight = new Float32Array([2, 3]);
    const a = Math.log(2);
    const b = Math.log(4 / 3);
    const gpu = await ce.forward(logits, target, { weight });
    expect(gpu.loss).toBeCloseTo((2 * a + 3 * b) / 5, 6);
  });

  it('label smoothing 0.2 over 2 equal classes keeps log 2', async () => {
    const logits = { data: new Float32Array([4, 4]), shape: [1, 2] };
    const target = { data: new Int32Array([1]), shape: [1] };
    const gpu = await ce.forward(logits, target, { labelSmoothing: 0.2 });
    expect(gpu.loss).toBeCloseTo(Math.LN2, 6);
  });

  it('label smoothing: (1 - e) * nll + e / C * sum of -log p', async () => {
    // Softmax of [0, ln 3] is [1/4, 3/4]; target 1; e = 0.5.
    const logits = { data: new Float32Array([0, Math.log(3)]), shape: [1, 2] };
    const target = { data: new Int32Array([1]), shape: [1] };
    const expected = 0.5 * -Math.log(0.75) + 0.25 * (-Math.log(0.25) - Math.log(0.75));
    const gpu = await ce.forward(logits, target, { labelSmoothing: 0.5 });
    expect(gpu.loss).toBeCloseTo(expected, 6);
  });

  it("all rows ignored: 'mean' is NaN and 'sum' is 0, as in PyTorch", async () => {
    const logits = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] };
    const target = { data: new Int32Array([-100, -100]), shape: [2] };
    expect((await ce.forward(logits, target)).loss).toBeNaN();
    expect((await ce.forward(logits, target, { reduction: 'sum' })).loss).toBe(0);
    expect(Array.from((await ce.forward(logits, target, { reduction: 'none' })).loss)).toEqual([0, 0]);
    expect(crossEntropyReference(logits, target).loss).toBeNaN();
  });

  it('probability targets: -sum t log p, mean over rows', async () => {
    const logits = { data: new Float32Array([0, Math.log(3), 0, 0]), shape: [2, 2] };
    const target = { data: new Float32Array([0.5, 0.5, 1, 0]), shape: [2, 2] };
    const row0 = -0.5 * Math.log(0.25) - 0.5 * Math.log(0.75);
    const row1 = Math.LN2;
    const gpu = await ce.forward(logits, target);
    expect(gpu.loss).toBeCloseTo((row0 + row1) / 2, 6);
  });

  it('a -inf mask on a non-target class leaves the loss finite; on the target class it is +inf', async () => {
    const logits = { data: new Float32Array([1, -Infinity, 1, -Infinity, 0, 0]), shape: [2, 3] };
    const target = { data: new Int32Array([0, 0]), shape: [2] };
    const gpu = await ce.forward(logits, target, { reduction: 'none' });
    expect(gpu.loss[0]).toBeCloseTo(Math.LN2, 6);
    expect(gpu.loss[1]).toBe(Infinity);
  });

  it('K-dimensional input [N, C, d]: classes strided by d', async () => {
    // N = 1, C = 2, d = 2: position 0 has logits (0, ln 3), position 1 has (ln 3, 0).
    const logits = { data: new Float32Array([0, Math.log(3), Math.log(3), 0]), shape: [1, 2, 2] };
    const target = { data: new Int32Array([1, 1]), shape: [1, 2] };
    const gpu = await ce.forward(logits, target, { reduction: 'none' });
    expect(gpu.loss[0]).toBeCloseTo(-Math.log(0.75), 6);
    expect(gpu.loss[1]).toBeCloseTo(-Math.log(0.25), 6);
  });
});
