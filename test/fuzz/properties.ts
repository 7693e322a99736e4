/**
 * The fuzz property, shared by `npm test` (a slice of a few thousand cases) and `npm run fuzz`
 * (100,000): random shapes (one row, one class, chunked rows past 4,096 classes, K-dimensional, empty
 * batches), target kinds, input kinds, every option, host or GPU-resident inputs, and values from
 * moderate to ±1e30 with -inf masks, stored as f32 or (a third of the cases) float16 or bfloat16
 * with 16-bit or f32 gradients, each checked against the float64 reference with the tolerances of
 * docs/accuracy.md, loss and gradient.
 */
import fc from 'fast-check';
import {
  compareWithReference, crossEntropyReference, describeComparison, encodeHalf, type CrossEntropy, type HalfDtype,
  type InputKind, type Reduction,
} from '../../src/index.js';
import { gpuBuffer } from '../helpers/gpu-inputs.js';

/** One generated call, in plain arrays so fast-check can print and shrink it. */
export interface FuzzCase {
  readonly shape: number[];
  readonly targetKind: 'classIndex' | 'probabilities';
  readonly input: InputKind;
  readonly logits: number[];
  readonly target: number[];
  readonly reduction: Reduction;
  readonly weight?: number[];
  readonly ignoreIndex?: number;
  readonly labelSmoothing: number;
  readonly zLoss?: number;
  readonly softcap?: number;
  readonly grad: boolean;
  readonly gradOutput?: number[];
  /** Pass every input as a GPUBuffer (and, with grad, sometimes write the gradient over the logits). */
  readonly onGpu: boolean;
  readonly gradInPlace?: boolean;
  /** 16-bit logits: `logits` rounded to this dtype (absent: f32). */
  readonly dtype?: HalfDtype;
  /** The gradient of 16-bit logits in f32 instead of their dtype. */
  readonly gradDtype?: 'float32';
}

/** The largest finite float16: larger drawn values are clamped to it (the fuzz leaves +inf out). */
const LARGEST_FLOAT16 = 65504;

const f32 = (min: number, max: number) =>
  fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true });

/**
 * Probabilities, weights and label smoothing are 0 or at least 1e-6: WGSL lets a GPU flush subnormal
 * f32 products to zero (SwiftShader does), which differs from float64 only where such a value meets
 * a -inf logit (0·-inf is NaN, 1e-45·-inf is -inf). README documents this.
 */
export const SMALLEST_DRAWN = 1e-6;
export const notTiny = (arb: fc.Arbitrary<number>) => arb.map((v) => (v < SMALLEST_DRAWN ? 0 : v));
const probability = fc.oneof({ weight: 8, arbitrary: notTiny(f32(0, 1)) }, { weight: 1, arbitrary: fc.constantFrom(0, 1) });

/** The largest |logit| of a case: ±1e4 (docs/accuracy.md), and ±1e30 where softmax is one-hot. */
const MAGNITUDES = [20, 1e4, 1e30] as const;
/** z-loss squares the log-sum-exp, which leaves f32 beyond this magnitude. */
const Z_LOSS_MAGNITUDE_LIMIT = 1e4;

/**
 * Logit values: moderate, up to the case's magnitude, ±88 and -inf masks. NaN and +inf logits are
 * left out: the fuzz found rows holding them where the GPU and the reference disagree (README's
 * Guarantees lists them as a known gap, with counterexamples).
 */
function logitValue(magnitude: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 12, arbitrary: f32(-magnitude, magnitude).map(flushSubnormal) },
    { weight: 2, arbitrary: fc.constantFrom(-Infinity, 88, -88, 0, magnitude, -magnitude) },
  );
}

/** The smallest normal f32. */
const MIN_NORMAL_F32 = 2 ** -126;

/**
 * Subnormal logits drawn as 0: GPUs may flush them to zero (SwiftShader does; README, Accuracy),
 * which only shows where nothing else is left, e.g. z * lse^2 over a 'mean' denominator of 0.
 */
function flushSubnormal(v: number): number {
  return Math.abs(v) < MIN_NORMAL_F32 ? 0 : v;
}

/** Log-probabilities are at most 0: the logit values folded onto (-inf, 0]. */
function logProbabilityValue(magnitude: number): fc.Arbitrary<number> {
  return logitValue(magnitude).map((v) => -Math.abs(v));
}

/** [C], [N, C], chunked rows, K-dimensional layouts and empty batches, with small dimensions. */
const shapeArb: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 40 }).map((c) => [c]) },
  { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 300 })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1020, max: 1100 })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 4090, max: 5000 })) },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1020, max: 1100 }),
    fc.integer({ min: 1, max: 4 })) },
  { weight: 1, arbitrary: fc.constantFrom([0, 5], [0, 3, 4], [2, 3, 0], [3, 4, 2, 0]) },
).map((shape) => [...shape]);

function layoutOf(shape: readonly number[]) {
  if (shape.length === 1) return { rows: 1, classes: shape[0]!, rowShape: [] as number[] };
  const [n, c, ...spatial] = shape as number[];
  return { rows: n! * spatial.reduce((a, b) => a * b, 1), classes: c!, rowShape: [n!, ...spatial] };
}

const arrayOf = (arb: fc.Arbitrary<number>, length: number) => fc.array(arb, { minLength: length, maxLength: length });

/** Class indices: valid ones, the ignored index now and then, or every row ignored. */
function classTargets(rows: number, classes: number, ignoreIndex: number): fc.Arbitrary<number[]> {
  return fc.oneof(
    { weight: 12, arbitrary: arrayOf(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: classes - 1 }) },
      { weight: 1, arbitrary: fc.constant(ignoreIndex) }), rows) },
    { weight: 1, arbitrary: fc.constant(new Array<number>(rows).fill(ignoreIndex)) },
  );
}

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({
  shape: shapeArb,
  targetKind: fc.constantFrom('classIndex', 'classIndex', 'probabilities' as const),
  input: fc.constantFrom<InputKind>('logits', 'logits', 'logits', 'logProbabilities', 'probabilities'),
  magnitude: fc.constantFrom(...MAGNITUDES),
  reduction: fc.constantFrom<Reduction>('mean', 'sum', 'none'),
  weighted: fc.boolean(),
  ignoreChoice: fc.constantFrom('default', 'minusOne', 'aClass'),
  labelSmoothing: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: notTiny(f32(0, 1)) },
    { weight: 1, arbitrary: fc.constant(1) }),
  zLoss: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: f32(1e-4, 0.1) }),
  softcap: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: f32(1, 50) }),
  grad: fc.boolean(),
  withGradOutput: fc.boolean(),
  onGpu: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  gradInPlace: fc.boolean(),
  dtype: fc.constantFrom<'float32' | HalfDtype>('float32', 'float32', 'float32', 'float32', 'float16', 'bfloat16'),
  f32Grad: fc.boolean(),
}).chain((r) => {
  const { rows, classes } = layoutOf(r.shape);
  const size = rows * classes;
  const logitsOnly = r.input === 'logits';
  const zLoss = logitsOnly && r.magnitude <= Z_LOSS_MAGNITUDE_LIMIT ? r.zLoss : 0;
  const ignoreIndex = r.ignoreChoice === 'minusOne' ? -1
    : r.ignoreChoice === 'aClass' && r.targetKind === 'classIndex' ? classes - 1 : undefined;
  return fc.record({
    logits: arrayOf(r.input === 'probabilities' ? probability
      : r.input === 'logProbabilities' ? logProbabilityValue(r.magnitude) : logitValue(r.magnitude), size),
    target: r.targetKind === 'classIndex' ? classTargets(rows, classes, ignoreIndex ?? -100) : arrayOf(probability, size),
    weight: r.weighted ? arrayOf(notTiny(f32(0, 3)), classes) : fc.constant(undefined),
    gradOutput: r.grad && r.reduction === 'none' && r.withGradOutput ? arrayOf(f32(-2, 2), rows) : fc.constant(undefined),
  }).map((v): FuzzCase => ({
    shape: r.shape, targetKind: r.targetKind, input: r.input, target: v.target,
    logits: r.dtype === 'float16'
      ? v.logits.map((x) => (x === -Infinity ? x : Math.max(-LARGEST_FLOAT16, Math.min(LARGEST_FLOAT16, x)))) : v.logits,
    ...(r.dtype === 'float32' ? {} : { dtype: r.dtype }),
    ...(r.dtype !== 'float32' && r.grad && r.f32Grad && !(r.onGpu && r.gradInPlace) ? { gradDtype: 'float32' as const } : {}),
    reduction: r.reduction, labelSmoothing: r.labelSmoothing, grad: r.grad, onGpu: r.onGpu,
    ...(v.weight ? { weight: v.weight } : {}),
    ...(ignoreIndex === undefined ? {} : { ignoreIndex }),
    ...(zLoss ? { zLoss } : {}),
    ...(logitsOnly && r.softcap ? { softcap: r.softcap } : {}),
    ...(v.gradOutput ? { gradOutput: v.gradOutput } : {}),
    ...(r.onGpu && r.grad ? { gradInPlace: r.gradInPlace } : {}),
  }));
});

/** The typed arrays and options of a case, as the reference takes them. */
export function hostCall(c: FuzzCase) {
  const logits = c.dtype === undefined ? { data: Float32Array.from(c.logits), shape: c.shape }
    : { data: encodeHalf(c.logits, c.dtype), shape: c.shape, dtype: c.dtype };
  const target = c.targetKind === 'classIndex'
    ? { data: Int32Array.from(c.target), shape: layoutOf(c.shape).rowShape }
    : { data: Float32Array.from(c.target), shape: c.shape };
  const options = {
    reduction: c.reduction, input: c.input, labelSmoothing: c.labelSmoothing, grad: c.grad,
    ...(c.weight ? { weight: Float32Array.from(c.weight) } : {}),
    ...(c.ignoreIndex === undefined ? {} : { ignoreIndex: c.ignoreIndex }),
    ...(c.zLoss ? { zLoss: c.zLoss } : {}),
    ...(c.softcap ? { softcap: c.softcap } : {}),
    ...(c.gradOutput ? { gradOutput: Float32Array.from(c.gradOutput) } : {}),
    ...(c.gradDtype ? { gradDtype: c.gradDtype } : {}),
  };
  return { logits, target, options };
}

/**
 * Runs one case on the GPU and compares it with the reference: null when it meets the tolerances of
 * docs/accuracy.md, else what differs.
 */
export async function checkCase(ce: CrossEntropy, c: FuzzCase): Promise<string | null> {
  const { logits, target, options } = hostCall(c);
  const reference = crossEntropyReference(logits, target, options);
  let gpu: { loss: number | Float32Array; grad?: Float32Array | Uint16Array };
  if (!c.onGpu) {
    gpu = await ce.forward(logits, target, options);
  } else {
    const device = ce.device;
    const owned = [gpuBuffer(device, logits.data), gpuBuffer(device, target.data)];
    const { weight, gradOutput, ...rest } = options;
    if (weight) owned.push(gpuBuffer(device, weight));
    if (gradOutput) owned.push(gpuBuffer(device, gradOutput));
    try {
      gpu = await ce.forward({ data: owned[0]!, shape: logits.shape, dtype: c.dtype ?? 'float32' },
        { data: owned[1]!, shape: target.shape }, {
        ...rest, gradInPlace: c.gradInPlace === true,
        ...(weight ? { weight: owned[2]! } : {}), ...(gradOutput ? { gradOutput: owned.at(-1)! } : {}),
      });
    } finally {
      owned.forEach((b) => b.destroy());
    }
  }
  const check = compareWithReference(gpu, reference);
  if (check.ok) return null;
  return [`loss ${describeComparison(check.loss)}`, ...(check.grad ? [`grad ${describeComparison(check.grad)}`] : [])]
    .join('\n');
}

/** Runs a batch of cases at once (GPU work overlaps); the failures, with their index in the batch. */
export async function checkBatch(ce: CrossEntropy, cases: readonly FuzzCase[]): Promise<{ index: number; why: string }[]> {
  const outcomes = await Promise.all(cases.map((c) => checkCase(ce, c).catch((e: unknown) => `threw ${String(e)}`)));
  return outcomes.flatMap((why, index) => (why === null ? [] : [{ index, why }]));
}
