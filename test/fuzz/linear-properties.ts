/**
 * Random linear-head cases for the fuzzer: leading dimensions, N, D and V (rows of classes short,
 * vec4, odd and chunked), every class-index option, a bias or none, the gradients asked for, a
 * memory budget that cuts the rows into chunks, host or GPU inputs, 16-bit hidden states and
 * classifier in a third of the cases; and the check of one case against the float64 reference on
 * the same values with the linear head's tolerance (helpers/linear-tolerance.ts; the inputs are
 * unit-scale, as it needs).
 */
import fc from 'fast-check';
import {
  encodeHalf, linearCrossEntropyReference, type CrossEntropy, type Dtype, type LinearOptions, type LinearResult, type Reduction } from '../../src/index.js';
import { Random } from '../../problems/random.js';
import { gpuBuffer } from '../helpers/gpu-inputs.js';
import { linearMismatch } from '../helpers/linear-tolerance.js';
// Option values under SMALLEST_DRAWN are drawn as 0, as in fuzz.test.ts's cases: a z-loss of 1e-37
// makes every gradient term subnormal, where a GPU may flush each to zero or not.
import { notTiny } from './properties.js';

export interface LinearFuzzCase {
  readonly rowShape: number[];
  readonly depth: number;
  readonly classes: number;
  /**
   * The seed the values are drawn from (hidden, classifier, bias, weight, gradOutput, targets):
   * drawing tens of thousands of values through fast-check would cost more than the case.
   */
  readonly values: number;
  readonly hasBias: boolean;
  readonly hasWeight: boolean;
  /** The share of rows whose target is ignored. */
  readonly ignoredShare: number;
  readonly reduction: Reduction;
  readonly ignoreIndex?: number;
  readonly labelSmoothing: number;
  readonly zLoss: number;
  readonly softcap: number;
  readonly grad: boolean | { hidden: boolean; classifier: boolean; bias: boolean };
  /** Rows of logits per chunk (the memory budget is this many rows' bytes). */
  readonly chunkRows?: number;
  readonly onGpu: boolean;
  /** The dtype of hidden and classifier (16-bit in a third of the cases); their gradients' too. */
  readonly dtype: Dtype;
}

const f32 = (min: number, max: number) => fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true })
  .map((v) => (Object.is(v, -0) ? 0 : v));

const dims = fc.record({
  rowShape: fc.oneof({ weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 70 })).map((t) => [...t]) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 })).map((t) => [...t]) }),
  depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(64, 100)),
  classes: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 200 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 2100 }) }),
});

export const linearFuzzCase: fc.Arbitrary<LinearFuzzCase> = dims.chain(({ rowShape, depth, classes }) => fc.record({
  values: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  hasBias: fc.boolean(),
  hasWeight: fc.boolean(),
  ignoredShare: fc.constantFrom(0, 0.1, 0.5, 1),
  ignoreIndex: fc.option(fc.integer({ min: -1, max: classes - 1 }), { nil: undefined }),
  reduction: fc.constantFrom<Reduction>('mean', 'sum', 'none'),
  labelSmoothing: fc.oneof(fc.constant(0), notTiny(f32(0, 1))),
  zLoss: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: notTiny(f32(0, 0.01)) }),
  softcap: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: f32(1, 30) }),
  grad: fc.oneof(fc.boolean(), fc.record({ hidden: fc.boolean(), classifier: fc.boolean(), bias: fc.boolean() })),
  chunkRows: fc.option(fc.constantFrom(64, 128), { nil: undefined }),
  onGpu: fc.boolean(),
  dtype: fc.constantFrom<Dtype>('float32', 'float32', 'float32', 'float32', 'float16', 'bfloat16'),
}).map((r) => {
  const grad = typeof r.grad === 'object' ? { ...r.grad, bias: r.grad.bias && r.hasBias } : r.grad;
  return {
    rowShape, depth, classes, values: r.values, hasBias: r.hasBias, hasWeight: r.hasWeight, ignoredShare: r.ignoredShare,
    reduction: r.reduction, labelSmoothing: r.labelSmoothing, zLoss: r.zLoss, softcap: r.softcap, grad, onGpu: r.onGpu,
    dtype: r.dtype, ...(r.ignoreIndex === undefined ? {} : { ignoreIndex: r.ignoreIndex }),
    ...(r.chunkRows ? { chunkRows: r.chunkRows } : {}),
  };
}));

/** The case's arrays, drawn from its seed: unit-scale logits (hidden ~ U(±1.5), classifier ~ U(±√(3/D))). */
export function linearCaseValues(c: LinearFuzzCase) {
  const random = new Random(c.values);
  const rows = c.rowShape.reduce((a, b) => a * b, 1);
  const draw = (length: number, low: number, high: number) =>
    Float32Array.from({ length }, () => random.uniform(low, high));
  const scale = Math.sqrt(3 / c.depth);
  const hidden = draw(rows * c.depth, -1.5, 1.5);
  const classifier = draw(c.classes * c.depth, -scale, scale);
  const target = Int32Array.from({ length: rows }, () => (random.next() < c.ignoredShare ? c.ignoreIndex ?? -100
    : random.int(c.classes)));
  const anyGrad = c.grad === true || (typeof c.grad === 'object' && (c.grad.hidden || c.grad.classifier || c.grad.bias));
  return {
    hidden, classifier, target,
    bias: c.hasBias ? draw(c.classes, -1, 1) : undefined,
    weight: c.hasWeight ? draw(c.classes, 0.1, 2) : undefined,
    gradOutput: c.reduction === 'none' && anyGrad ? draw(rows, -2, 2) : undefined,
  };
}

/** Runs one case on the GPU; null when it meets the tolerance, else what differs. */
export async function checkLinearCase(ce: CrossEntropy, c: LinearFuzzCase): Promise<string | null> {
  const v = linearCaseValues(c);
  const stored = (values: Float32Array) => (c.dtype === 'float32' ? values : encodeHalf(values, c.dtype));
  const hidden = { data: stored(v.hidden), shape: [...c.rowShape, c.depth], dtype: c.dtype };
  const classifier = { data: stored(v.classifier), shape: [c.classes, c.depth], dtype: c.dtype };
  const target = { data: v.target, shape: c.rowShape };
  const options = {
    reduction: c.reduction, labelSmoothing: c.labelSmoothing, zLoss: c.zLoss, softcap: c.softcap, grad: c.grad,
    ...(c.ignoreIndex === undefined ? {} : { ignoreIndex: c.ignoreIndex }),
    ...(v.bias ? { bias: v.bias } : {}),
    ...(v.weight ? { weight: v.weight } : {}),
    ...(v.gradOutput ? { gradOutput: v.gradOutput } : {}),
  };
  const reference = linearCrossEntropyReference(hidden, classifier, target, options);
  const memoryBudget = c.chunkRows === undefined ? undefined : c.chunkRows * c.classes * 4;
  let result: LinearResult;
  if (!c.onGpu) {
    result = await ce.linear(hidden, classifier, target, { ...options, ...(memoryBudget ? { memoryBudget } : {}) });
  } else {
    const device = ce.device;
    const owned: GPUBuffer[] = [];
    const move = (data: Float32Array | Int32Array | Uint16Array) => {
      const buffer = gpuBuffer(device, data);
      owned.push(buffer);
      return buffer;
    };
    const gpuOptions: LinearOptions = {
      ...options, ...(options.bias ? { bias: move(options.bias) } : {}), ...(options.weight ? { weight: move(options.weight) } : {}),
      ...(options.gradOutput ? { gradOutput: move(options.gradOutput) } : {}), ...(memoryBudget ? { memoryBudget } : {}),
    };
    try {
      result = await ce.linear({ ...hidden, data: move(hidden.data) }, { ...classifier, data: move(classifier.data) },
        { data: move(target.data), shape: target.shape }, gpuOptions);
    } finally {
      owned.forEach((b) => b.destroy());
    }
  }
  return linearMismatch(result, reference, c.depth, c.dtype === 'float32' ? undefined : c.dtype);
}
