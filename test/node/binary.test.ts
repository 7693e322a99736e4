/**
 * Binary cross-entropy (PyTorch BCEWithLogitsLoss and BCELoss): values known independently, the GPU
 * against the float64 reference (loss and gradient), and the reference's gradient against central
 * finite differences.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyReference, compareArrays, CrossEntropy, describeComparison, TOLERANCES, type BinaryOptions,
} from '../../src/index.js';
import { Random } from '../../problems/random.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

describe('binaryCrossEntropyReference', () => {
  const one = (x: number, y: number, options: BinaryOptions = {}) =>
    binaryCrossEntropyReference({ data: new Float64Array([x]), shape: [1] }, { data: new Float64Array([y]), shape: [1] },
      options).loss as number;

  it('matches values derived by hand', () => {
    expect(one(0, 1)).toBeCloseTo(Math.LN2, 15);
    expect(one(0, 0)).toBeCloseTo(Math.LN2, 15);
    expect(one(100, 0)).toBeCloseTo(100, 12);              // no overflow in e^100
    expect(one(-100, 1)).toBeCloseTo(100, 12);
    expect(one(-800, 0)).toBe(0);                          // log1p(e^-800) underflows to 0 exactly
    expect(one(2, 1, { posWeight: new Float64Array([3]) })).toBeCloseTo(3 * Math.log1p(Math.exp(-2)), 14);
    expect(one(0.25, 1, { input: 'probabilities' })).toBeCloseTo(-Math.log(0.25), 15);
    expect(one(0, 1, { input: 'probabilities' })).toBe(100);   // log 0 clamped at -100 (BCELoss)
  });

  it('gradient against central finite differences', () => {
    const random = new Random(5);
    for (const input of ['logits', 'probabilities'] as const) {
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const shape = [3, 4];
        const x = Float64Array.from({ length: 12 }, () => (input === 'logits' ? random.uniform(-4, 4) : random.uniform(0.05, 0.95)));
        const y = Float64Array.from({ length: 12 }, () => random.next());
        const options: BinaryOptions = {
          reduction, input, weight: Float64Array.from({ length: 4 }, () => random.uniform(0.5, 2)),
          ...(input === 'logits' ? { posWeight: Float64Array.from({ length: 4 }, () => random.uniform(0.5, 3)) } : {}),
        };
        const upstream = Float64Array.from({ length: 12 }, () => random.uniform(-1, 1));
        const lossOf = (v: Float64Array) => {
          const { loss } = binaryCrossEntropyReference({ data: v, shape }, { data: y, shape }, options);
          return typeof loss === 'number' ? loss : loss.reduce((acc, l, i) => acc + l * upstream[i]!, 0);
        };
        const { grad } = binaryCrossEntropyReference({ data: x, shape }, { data: y, shape },
          { ...options, grad: true, ...(reduction === 'none' ? { gradOutput: upstream } : {}) });
        for (let i = 0; i < 12; i++) {
          const h = 1e-6;
          const up = Float64Array.from(x); up[i]! += h;
          const down = Float64Array.from(x); down[i]! -= h;
          const numeric = (lossOf(up) - lossOf(down)) / (2 * h);
          expect(Math.abs(grad![i]! - numeric), `${input} ${reduction} [${i}]`).toBeLessThan(1e-6 + 1e-6 * Math.abs(numeric));
        }
      }
    }
  });

  it('rejects posWeight with probabilities, and targets outside [0, 1]', () => {
    const t = { data: new Float32Array([0.5]), shape: [1] };
    expect(() => binaryCrossEntropyReference(t, t, { input: 'probabilities', posWeight: new Float32Array([2]) }))
      .toThrow(/posWeight applies to input 'logits' only/);
    expect(() => binaryCrossEntropyReference(t, { data: new Float32Array([1.5]), shape: [1] }))
      .toThrow(/target\[0\] = 1\.5 is not a probability/);
  });
});

describe.skipIf(!device)('CrossEntropy.binary on the GPU', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  const SHAPES = [[1], [7], [64, 10], [3, 5, 33], [70000, 2]];
  const cases = SHAPES.flatMap((shape) => (['logits', 'probabilities'] as const).flatMap((input) =>
    (['mean', 'sum', 'none'] as const).map((reduction) => ({ shape, input, reduction }))));

  it.each(cases)('$shape $input $reduction', async ({ shape, input, reduction }) => {
    const random = new Random(shape.length * 1000 + shape[0]! + reduction.length);
    const size = shape.reduce((a, b) => a * b, 1);
    const last = shape.at(-1)!;
    const x = Float32Array.from({ length: size }, () =>
      (input === 'logits' ? (random.next() < 0.05 ? random.uniform(-90, 90) : random.uniform(-6, 6)) : random.next()));
    const y = Float32Array.from({ length: size }, () => (random.next() < 0.5 ? Math.round(random.next()) : random.next()));
    const options: BinaryOptions = {
      reduction, input, grad: true, weight: Float32Array.from({ length: last }, () => random.uniform(0.2, 2)),
      ...(input === 'logits' ? { posWeight: Float32Array.from({ length: last }, () => random.uniform(0.5, 3)) } : {}),
      ...(reduction === 'none' ? { gradOutput: Float32Array.from({ length: size }, () => random.uniform(-1, 1)) } : {}),
    };
    const logits = { data: x, shape };
    const target = { data: y, shape };
    const gpu = await ce.binary(logits, target, options);
    const reference = binaryCrossEntropyReference(logits, target, options);
    const lossCheck = compareArrays(gpu.loss, reference.loss,
      typeof reference.loss === 'number' ? TOLERANCES.reducedLoss : TOLERANCES.rowLoss);
    expect(lossCheck.ok, describeComparison(lossCheck)).toBe(true);
    const gradCheck = compareArrays(gpu.grad!, reference.grad!, TOLERANCES.grad);
    expect(gradCheck.ok, describeComparison(gradCheck)).toBe(true);
  });

  it('gives PyTorch values: BCEWithLogits(0, 1) = log 2, large |x| without overflow', async () => {
    const { loss } = await ce.binary({ data: new Float32Array([0, 100, -100]), shape: [3] },
      { data: new Float32Array([1, 0, 1]), shape: [3] }, { reduction: 'none' });
    expect((loss as Float32Array)[0]).toBeCloseTo(Math.LN2, 6);
    expect((loss as Float32Array)[1]).toBeCloseTo(100, 4);
    expect((loss as Float32Array)[2]).toBeCloseTo(100, 4);
  });

  it('rejects gradInPlace without grad before any GPU work', async () => {
    const x = { data: new Float32Array([0.5, 1]), shape: [2] };
    await expect(ce.binary(x, x, { gradInPlace: true })).rejects.toThrow(/^options\.gradInPlace needs options\.grad: true$/);
  });
});
