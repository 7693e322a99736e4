/**
 * The float64 reference on its own: PyTorch's documented behaviour in small cases, and its gradient
 * against central finite differences of its own loss (so the formulas are checked, not just two
 * implementations of them against each other).
 */
import { describe, expect, it } from 'vitest';
import { crossEntropyReference, type InputKind, type Reduction } from '../../src/index.js';
import { Random } from '../../problems/random.js';

describe('crossEntropyReference', () => {
  it('PyTorch: cross_entropy([[1, 2, 3]], [2]) = log(e + e^2 + e^3) - 3', () => {
    const { loss } = crossEntropyReference({ data: new Float64Array([1, 2, 3]), shape: [1, 3] },
      { data: new Int32Array([2]), shape: [1] });
    expect(loss).toBeCloseTo(Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3, 14);
  });

  it("ignored rows give 0 in 'none' and leave the mean's denominator", () => {
    const logits = { data: new Float64Array([0, 0, 5, 1]), shape: [2, 2] };
    const { loss } = crossEntropyReference(logits, { data: new Int32Array([1, 7]), shape: [2] },
      { reduction: 'none', ignoreIndex: 7 });
    expect(Array.from(loss as Float64Array)).toEqual([Math.LN2, 0]);
    const mean = crossEntropyReference(logits, { data: new Int32Array([1, 7]), shape: [2] }, { ignoreIndex: 7 });
    expect(mean.loss).toBeCloseTo(Math.LN2, 15);
  });

  it('ignored rows have a zero gradient even when all their logits are -inf', () => {
    const logits = { data: new Float64Array([-Infinity, -Infinity, 1, 2]), shape: [2, 2] };
    const { grad } = crossEntropyReference(logits, { data: new Int32Array([-100, 0]), shape: [2] }, { grad: true });
    expect(Array.from(grad!.slice(0, 2))).toEqual([0, 0]);
  });

  it('a row of only -inf logits is NaN (PyTorch), a -inf target logit is +inf', () => {
    const logits = { data: new Float64Array([-Infinity, -Infinity, -Infinity, 0]), shape: [2, 2] };
    const { loss } = crossEntropyReference(logits, { data: new Int32Array([0, 0]), shape: [2] }, { reduction: 'none' });
    expect((loss as Float64Array)[0]).toBeNaN();
    expect((loss as Float64Array)[1]).toBe(Infinity);
  });

  it('z-loss adds z * lse^2 per used row; softcap maps logits through cap * tanh(x / cap)', () => {
    const x = [0.5, -1, 2];
    const lse = Math.log(x.reduce((acc, v) => acc + Math.exp(v), 0));
    const plain = -(x[2]! - lse);
    const withZ = crossEntropyReference({ data: new Float64Array(x), shape: [1, 3] },
      { data: new Int32Array([2]), shape: [1] }, { zLoss: 0.1 });
    expect(withZ.loss).toBeCloseTo(plain + 0.1 * lse * lse, 14);
    const capped = x.map((v) => 1.5 * Math.tanh(v / 1.5));
    const cappedLse = Math.log(capped.reduce((acc, v) => acc + Math.exp(v), 0));
    const withCap = crossEntropyReference({ data: new Float64Array(x), shape: [1, 3] },
      { data: new Int32Array([2]), shape: [1] }, { softcap: 1.5 });
    expect(withCap.loss).toBeCloseTo(cappedLse - capped[2]!, 14);
  });

  it('label smoothing with probability targets equals smoothing the targets by hand', () => {
    const logits = { data: new Float64Array([0.3, -1, 2]), shape: [1, 3] };
    const eps = 0.2;
    const t = [0.1, 0.6, 0.3];
    const smoothed = crossEntropyReference(logits, { data: new Float64Array(t), shape: [1, 3] }, { labelSmoothing: eps });
    const byHand = crossEntropyReference(logits,
      { data: new Float64Array(t.map((v) => v * (1 - eps) + eps / 3)), shape: [1, 3] });
    expect(smoothed.loss).toBeCloseTo(byHand.loss as number, 14);
  });
});

/** Central differences of the reference loss with respect to each input value. */
function numericGradient(logits: Float64Array, lossOf: (x: Float64Array) => number, step: number): Float64Array {
  const grad = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const x = Float64Array.from(logits);
    x[i] = logits[i]! + step;
    const up = lossOf(x);
    x[i] = logits[i]! - step;
    grad[i] = (up - lossOf(x)) / (2 * step);
  }
  return grad;
}

interface GradCase {
  shape: number[];
  targetKind: 'classIndex' | 'probabilities';
  input: InputKind;
  reduction: Reduction;
  weighted: boolean;
  labelSmoothing: number;
  zLoss?: number;
  softcap?: number;
}

const GRAD_CASES: GradCase[] = [];
for (const shape of [[4], [3, 5], [2, 3, 2]]) {
  for (const targetKind of ['classIndex', 'probabilities'] as const) {
    for (const input of ['logits', 'logProbabilities', 'probabilities'] as const) {
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        GRAD_CASES.push({ shape, targetKind, input, reduction, weighted: reduction !== 'sum', labelSmoothing: 0.15 });
      }
    }
    for (const reduction of ['mean', 'none'] as const) {
      GRAD_CASES.push({ shape, targetKind, input: 'logits', reduction, weighted: true, labelSmoothing: 0.1,
        zLoss: 0.05, softcap: 2.5 });
    }
  }
}

describe('reference gradient against central finite differences', () => {
  it.each(GRAD_CASES)('$shape $targetKind $input $reduction z=$zLoss softcap=$softcap', (c) => {
    const random = new Random(c.shape.length * 7919 + c.reduction.length);
    const size = c.shape.reduce((a, b) => a * b, 1);
    const classes = c.shape.length === 1 ? c.shape[0]! : c.shape[1]!;
    const rowShape = c.shape.length === 1 ? [] : [c.shape[0]!, ...c.shape.slice(2)];
    const rows = rowShape.reduce((a, b) => a * b, 1);
    // Probabilities stay inside (0, 1) after a finite-difference step.
    const logits = Float64Array.from({ length: size }, () =>
      (c.input === 'probabilities' ? random.uniform(0.05, 0.95) : random.uniform(-3, 3)));
    const target = c.targetKind === 'classIndex'
      ? { data: Int32Array.from({ length: rows }, () => random.int(classes)), shape: rowShape }
      : { data: Float64Array.from({ length: size }, () => random.next()), shape: c.shape };
    const gradOutput = Float64Array.from({ length: rows }, () => random.uniform(-2, 2));
    const options = {
      reduction: c.reduction, input: c.input, labelSmoothing: c.labelSmoothing,
      ...(c.zLoss ? { zLoss: c.zLoss } : {}), ...(c.softcap ? { softcap: c.softcap } : {}),
      ...(c.weighted ? { weight: Float64Array.from({ length: classes }, () => random.uniform(0.2, 2)) } : {}),
    };
    // For 'none', differentiate sum_n gradOutput[n] * loss[n].
    const lossOf = (x: Float64Array): number => {
      const { loss } = crossEntropyReference({ data: x, shape: c.shape }, target, options);
      return typeof loss === 'number' ? loss : loss.reduce((acc, v, n) => acc + v * gradOutput[n]!, 0);
    };
    const { grad } = crossEntropyReference({ data: logits, shape: c.shape }, target,
      { ...options, grad: true, ...(c.reduction === 'none' ? { gradOutput } : {}) });
    const numeric = numericGradient(logits, lossOf, 1e-6);
    for (let i = 0; i < size; i++) {
      expect(Math.abs(grad![i]! - numeric[i]!), `element ${i}`).toBeLessThan(1e-6 + 1e-6 * Math.abs(numeric[i]!));
    }
  });
});
