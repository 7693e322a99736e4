/**
 * The linear head's float64 reference (no GPU): its gradients against central differences of its
 * own loss, for every class-index option; a hand-derived case; leading dimensions, 16-bit inputs
 * and the choice of gradients; and its errors.
 */
import { describe, expect, it } from 'vitest';
import { crossEntropyReference, decodeHalf, encodeHalf } from '../../src/index.js';
import { linearCrossEntropyReference, type LinearReferenceOptions } from '../../src/linear-reference.js';
import { Random } from '../../problems/random.js';

function problem(rows: number, depth: number, classes: number, seed: number) {
  const random = new Random(seed);
  const hidden = { data: Float64Array.from({ length: rows * depth }, () => random.normal()), shape: [rows, depth] };
  const classifier = { data: Float64Array.from({ length: classes * depth }, () => random.normal() / 2),
    shape: [classes, depth] };
  const target = { data: Int32Array.from({ length: rows }, () => random.int(classes)), shape: [rows] };
  const bias = Float64Array.from({ length: classes }, () => random.normal());
  return { hidden, classifier, target, bias, random };
}

/** The loss as one number ('none': weighted by gradOutput, as its gradient is). */
function scalarLoss(loss: number | Float64Array, gradOutput?: ArrayLike<number>): number {
  if (typeof loss === 'number') return loss;
  return loss.reduce((acc, v, i) => acc + v * (gradOutput?.[i] ?? 1), 0);
}

describe('linearCrossEntropyReference', () => {
  const optionSets: { name: string; options: LinearReferenceOptions; withBias: boolean }[] = [
    { name: 'mean', options: {}, withBias: true },
    { name: 'sum, weights, label smoothing', options: { reduction: 'sum', labelSmoothing: 0.2 }, withBias: false },
    { name: 'none with gradOutput, z-loss, softcap', options: { reduction: 'none', zLoss: 0.01, softcap: 3 }, withBias: true },
    { name: 'mean, an ignored row, weights', options: { ignoreIndex: 1 }, withBias: true },
  ];

  it.each(optionSets)('gradients against central differences: $name', ({ options, withBias }) => {
    const p = problem(4, 5, 7, 3);
    const weight = options.reduction === 'sum' || options.ignoreIndex !== undefined
      ? Float64Array.from({ length: 7 }, (_, c) => 0.5 + c / 7) : undefined;
    const gradOutput = options.reduction === 'none' ? Float64Array.from([1, -0.5, 2, 0.25]) : undefined;
    const full: LinearReferenceOptions = { ...options, ...(weight ? { weight } : {}), ...(gradOutput ? { gradOutput } : {}),
      ...(withBias ? { bias: p.bias } : {}) };
    const result = linearCrossEntropyReference(p.hidden, p.classifier, p.target, { ...full, grad: true });
    const lossAt = (hidden: Float64Array, classifier: Float64Array, bias: Float64Array) => scalarLoss(
      linearCrossEntropyReference({ data: hidden, shape: p.hidden.shape }, { data: classifier, shape: p.classifier.shape },
        p.target, { ...full, ...(withBias ? { bias } : {}), gradOutput: undefined }).loss, gradOutput);
    const step = 1e-6;
    const check = (name: 'hidden' | 'classifier' | 'bias', values: Float64Array, analytic: Float64Array) => {
      for (let i = 0; i < values.length; i++) {
        const saved = values[i]!;
        values[i] = saved + step;
        const up = lossAt(p.hidden.data, p.classifier.data, p.bias);
        values[i] = saved - step;
        const down = lossAt(p.hidden.data, p.classifier.data, p.bias);
        values[i] = saved;
        const numeric = (up - down) / (2 * step);
        expect(Math.abs(analytic[i]! - numeric), `${name}[${i}]: ${analytic[i]} vs ${numeric}`)
          .toBeLessThan(1e-7 + 1e-6 * Math.abs(numeric));
      }
    };
    check('hidden', p.hidden.data, result.grad!.hidden!);
    check('classifier', p.classifier.data, result.grad!.classifier!);
    if (withBias) check('bias', p.bias, result.grad!.bias!);
    else expect(result.grad!.bias).toBeUndefined();
  });

  it('a case by hand: one-hot hidden states pick the classifier\'s columns', () => {
    // hidden = I (N = D = 2): the logits are the classifier's columns, [[1, 0, 1], [0, 1, 1]].
    const r = linearCrossEntropyReference({ data: new Float32Array([1, 0, 0, 1]), shape: [2, 2] },
      { data: new Float32Array([1, 0, 0, 1, 1, 1]), shape: [3, 2] }, { data: new Int32Array([0, 2]), shape: [2] },
      { reduction: 'sum', grad: { classifier: true } });
    const lse = Math.log(2 * Math.E + 1);
    expect(r.loss).toBeCloseTo((lse - 1) + (lse - 1), 14);
    const [p1, p0] = [Math.E / (2 * Math.E + 1), 1 / (2 * Math.E + 1)];
    // dW[v] = Σ_n (p[n, v] − [y_n = v]) h[n]; h[0] = (1, 0), h[1] = (0, 1).
    const expected = [p1 - 1, p0, p0, p1, p1, p1 - 1];
    expected.forEach((e, i) => expect(r.grad!.classifier![i]).toBeCloseTo(e, 14));
    expect(r.grad!.hidden).toBeUndefined();
  });

  it('is crossEntropyReference of the materialised logits, with leading dimensions flattened', () => {
    const p = problem(6, 3, 5, 9);
    const grid = linearCrossEntropyReference({ data: p.hidden.data, shape: [2, 3, 3] }, p.classifier,
      { data: p.target.data, shape: [2, 3] }, { bias: p.bias, labelSmoothing: 0.1, grad: true });
    const flat = linearCrossEntropyReference(p.hidden, p.classifier, p.target, { bias: p.bias, labelSmoothing: 0.1,
      grad: true });
    expect(grid).toEqual(flat);
    const logits = new Float64Array(6 * 5);
    for (let n = 0; n < 6; n++) {
      for (let v = 0; v < 5; v++) {
        let sum = p.bias[v]!;
        for (let d = 0; d < 3; d++) sum += p.hidden.data[n * 3 + d]! * p.classifier.data[v * 3 + d]!;
        logits[n * 5 + v] = sum;
      }
    }
    expect(flat.loss).toBe(crossEntropyReference({ data: logits, shape: [6, 5] }, p.target, { labelSmoothing: 0.1 }).loss);
  });

  it.each(['float16', 'bfloat16'] as const)('reads %s hidden states and classifier as their exact values', (dtype) => {
    const p = problem(3, 4, 5, 17);
    const hiddenBits = encodeHalf(p.hidden.data, dtype);
    const classifierBits = encodeHalf(p.classifier.data, dtype);
    const half = linearCrossEntropyReference({ data: hiddenBits, shape: [3, 4], dtype },
      { data: classifierBits, shape: [5, 4], dtype }, p.target, { grad: true });
    const upcast = linearCrossEntropyReference({ data: decodeHalf(hiddenBits, dtype), shape: [3, 4] },
      { data: decodeHalf(classifierBits, dtype), shape: [5, 4] }, p.target, { grad: true });
    expect(half).toEqual(upcast);
  });

  it('rejects what the linear head does not take, naming the argument', () => {
    const p = problem(2, 3, 4, 1);
    const call = (options: object, overrides: Partial<Record<'hidden' | 'classifier' | 'target', unknown>> = {}) => () =>
      linearCrossEntropyReference((overrides.hidden ?? p.hidden) as never, (overrides.classifier ?? p.classifier) as never,
        (overrides.target ?? p.target) as never, options as never);
    expect(call({}, { classifier: { data: new Float64Array(12), shape: [3, 4] } }))
      .toThrow(/classifier\.shape must be \[V, 3\] \(nn\.Linear\(3, V\)\.weight's layout\), got \[3, 4\]/);
    expect(call({}, { target: { data: new Float32Array(8), shape: [2, 4] } }))
      .toThrow(/target\.shape must be hidden\.shape without D, \[2\], got \[2, 4\] \(class indices only/);
    expect(call({ bias: new Float64Array(3) })).toThrow(/options\.bias has 3 elements but the classifier has 4 classes/);
    expect(call({ grad: { bias: true } })).toThrow(/options\.grad\.bias asks for the gradient of a bias, but options\.bias is absent/);
    expect(call({ grad: { weights: true } })).toThrow(/options\.grad: unknown gradient "weights" \(known: hidden, classifier, bias\)/);
    expect(call({ memoryBudget: 1 })).toThrow(/linearCrossEntropyReference: unknown option "memoryBudget"/);
    expect(call({}, { hidden: { data: encodeHalf([1, 2, 3, 4, 5, 6], 'float16'), shape: [2, 3] } }))
      .toThrow(/hidden\.data is a Uint16Array but hidden\.dtype is 'float32'/);
  });
});
