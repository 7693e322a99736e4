/**
 * Random linear-head cases for the fuzzer: leading dimensions, N, D and V (rows of classes short,
 * vec4, odd and chunked), every class-index option, a bias or none, the gradients asked for, a
 * memory budget that cuts the rows into chunks, host or GPU inputs; and the check of one case
 * against the float64 reference with the linear head's tolerance (docs/accuracy.md): for these
 * unit-scale inputs the loss within s·(1e-5 + 1e-5·|e|) and each gradient element within
 * s·(1e-5·max|e| + 1e-4·|e|) + 2⁻¹²⁶, s = max(1, D / 256) (2⁻¹²⁶, the smallest normal f32: a GPU may
 * flush subnormal results to zero, which matters when every gradient is that small). 16-bit hidden
 * states and classifier in a third of the cases: the reference takes the same 16-bit values, and
 * their 16-bit gradients are allowed half an ulp of their dtype more.
 */
import fc from 'fast-check';
import {
  decodeHalf, encodeHalf, linearCrossEntropyReference, type CrossEntropy, type Dtype, type HalfDtype, type LinearOptions, type LinearResult, type Reduction } from '../../src/index.js';
import { gpuBuffer } from '../helpers/gpu-inputs.js';

export interface LinearFuzzCase {
  readonly rowShape: number[];
  readonly depth: number;
  readonly classes: number;
  readonly hidden: number[];
  readonly classifier: number[];
  readonly target: number[];
  readonly bias?: number[];
  readonly weight?: number[];
  readonly gradOutput?: number[];
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
const arrayOf = (arb: fc.Arbitrary<number>, length: number) => fc.array(arb, { minLength: length, maxLength: length });

const dims = fc.record({
  rowShape: fc.oneof({ weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 70 })).map((t) => [...t]) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 })).map((t) => [...t]) }),
  depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(64, 100)),
  classes: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 200 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 2100 }) }),
});

export const linearFuzzCase: fc.Arbitrary<LinearFuzzCase> = dims.chain(({ rowShape, depth, classes }) => {
  const rows = rowShape.reduce((a, b) => a * b, 1);
  const scale = Math.sqrt(3 / depth);
  return fc.record({
    hidden: arrayOf(f32(-1.5, 1.5), rows * depth),
    classifier: arrayOf(f32(-1, 1).map((v) => Math.fround(v * scale)), classes * depth),
    ignoreIndex: fc.option(fc.integer({ min: -1, max: classes - 1 }), { nil: undefined }),
    reduction: fc.constantFrom<Reduction>('mean', 'sum', 'none'),
    labelSmoothing: fc.oneof(fc.constant(0), f32(0, 1)),
    zLoss: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: f32(0, 0.01) }),
    softcap: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: f32(1, 30) }),
    bias: fc.option(arrayOf(f32(-1, 1), classes), { nil: undefined }),
    weight: fc.option(arrayOf(f32(0.1, 2), classes), { nil: undefined }),
    gradOutput: arrayOf(f32(-2, 2), rows),
    grad: fc.oneof(fc.boolean(), fc.record({ hidden: fc.boolean(), classifier: fc.boolean(), bias: fc.boolean() })),
    chunkRows: fc.option(fc.constantFrom(64, 128), { nil: undefined }),
    onGpu: fc.boolean(),
    dtype: fc.constantFrom<Dtype>('float32', 'float32', 'float32', 'float32', 'float16', 'bfloat16'),
    targetDraw: arrayOf(fc.integer({ min: 0, max: classes }), rows),
  }).map((r) => {
    // A draw of `classes` is an ignored row (ignoreIndex, or -100 when none is given).
    const ignored = r.ignoreIndex ?? -100;
    const target = r.targetDraw.map((t) => (t === classes ? ignored : t));
    const grad = typeof r.grad === 'object' ? { ...r.grad, bias: r.grad.bias && r.bias !== undefined } : r.grad;
    const anyGrad = grad === true || (typeof grad === 'object' && (grad.hidden || grad.classifier || grad.bias));
    return {
      rowShape, depth, classes, hidden: r.hidden, classifier: r.classifier, target, reduction: r.reduction,
      labelSmoothing: r.labelSmoothing, zLoss: r.zLoss, softcap: r.softcap, grad, onGpu: r.onGpu, dtype: r.dtype,
      ...(r.ignoreIndex === undefined ? {} : { ignoreIndex: r.ignoreIndex }),
      ...(r.bias ? { bias: r.bias } : {}),
      ...(r.weight ? { weight: r.weight } : {}),
      ...(r.reduction === 'none' && anyGrad ? { gradOutput: r.gradOutput } : {}),
      ...(r.chunkRows ? { chunkRows: r.chunkRows } : {}),
    };
  });
});

const MIN_NORMAL_F32 = 2 ** -126;

/** Half the distance from `value`'s 16-bit rounding to its next value up: the rounding's largest error. */
function halfUlp(value: number, dtype: HalfDtype): number {
  const bits = encodeHalf([Math.abs(value)], dtype);
  const here = decodeHalf(bits, dtype)[0]!;
  const next = decodeHalf(Uint16Array.of(bits[0]! + 1), dtype)[0]!;
  return Number.isFinite(next) ? (next - here) / 2 : Infinity;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

/** Runs one case on the GPU; null when it meets the tolerance, else what differs. */
export async function checkLinearCase(ce: CrossEntropy, c: LinearFuzzCase): Promise<string | null> {
  const values = (v: number[]) => (c.dtype === 'float32' ? Float32Array.from(v) : encodeHalf(v, c.dtype));
  const hidden = { data: values(c.hidden), shape: [...c.rowShape, c.depth], dtype: c.dtype };
  const classifier = { data: values(c.classifier), shape: [c.classes, c.depth], dtype: c.dtype };
  const target = { data: Int32Array.from(c.target), shape: c.rowShape };
  const options = {
    reduction: c.reduction, labelSmoothing: c.labelSmoothing, zLoss: c.zLoss, softcap: c.softcap, grad: c.grad,
    ...(c.ignoreIndex === undefined ? {} : { ignoreIndex: c.ignoreIndex }),
    ...(c.bias ? { bias: Float32Array.from(c.bias) } : {}),
    ...(c.weight ? { weight: Float32Array.from(c.weight) } : {}),
    ...(c.gradOutput ? { gradOutput: Float32Array.from(c.gradOutput) } : {}),
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
  const s = Math.max(1, c.depth / 256);
  const problems: string[] = [];
  const losses = typeof reference.loss === 'number' ? [reference.loss] : Array.from(reference.loss);
  const got = typeof result.loss === 'number' ? [result.loss] : Array.from(result.loss);
  if (got.length !== losses.length) return `loss has ${got.length} values, the reference ${losses.length}`;
  losses.forEach((e, i) => {
    const g = got[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(g) : Math.abs(g - e) <= s * (1e-5 + 1e-5 * Math.abs(e));
    if (!ok && problems.length < 3) problems.push(`loss[${i}] = ${g}, reference ${e}`);
  });
  for (const name of ['hidden', 'classifier', 'bias'] as const) {
    const want = reference.grad?.[name];
    const have = result.grad?.[name];
    if ((want === undefined) !== (have === undefined)) {
      problems.push(`grad.${name} ${want === undefined ? 'given but not asked for' : 'missing'}`);
      continue;
    }
    if (!want || !have) continue;
    // A 16-bit gradient: its values, and half an ulp of its dtype more.
    const half = name !== 'bias' && c.dtype !== 'float32' ? c.dtype : null;
    const got = half ? decodeHalf(have as Uint16Array, half) : have;
    const atol = 1e-5 * maxAbs(want) + MIN_NORMAL_F32 / s;
    for (let i = 0; i < want.length; i++) {
      const rounding = half ? halfUlp(want[i]!, half) : 0;
      if (!(Math.abs(got[i]! - want[i]!) <= s * (atol + 1e-4 * Math.abs(want[i]!)) + rounding)) {
        problems.push(`grad.${name}[${i}] = ${got[i]}, reference ${want[i]}`);
        break;
      }
    }
  }
  return problems.length === 0 ? null : problems.join('\n');
}
