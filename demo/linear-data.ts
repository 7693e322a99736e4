/**
 * The linear head view's problems, with no DOM (the browser test rebuilds them in Node): the
 * presets, a seeded draw of hidden states, classifier, bias, class weights and targets stored as the
 * chosen dtype, the options of `ce.linear` and of its float64 reference, how many rows the reference
 * can afford, and the check of a GPU result against it.
 */
import {
  compareArrays, decodeHalf, DEFAULT_MEMORY_BUDGET,
  type Comparison, type Dtype, type LinearOptions, type LinearReferenceOptions, type LinearReferenceResult,
  type LinearResult, type Reduction, type Tolerance,
} from '../src/index.js';
import { Random } from '../problems/random.js';
import { isHalf, storeLogits, type Rounding, type StoredLogits } from './dtype.js';

/** Which gradients are asked for. */
export interface GradChoice {
  readonly hidden: boolean;
  readonly classifier: boolean;
  readonly bias: boolean;
}

/** A linear-head problem as the form describes it. */
export interface LinearSpec {
  /** N rows of hidden states, D features, V classes. */
  readonly rows: number;
  readonly depth: number;
  readonly classes: number;
  /** How hidden states and classifier are stored. */
  readonly dtype: Dtype;
  /** The 16-bit inputs' gradients in their own dtype (the library's default) or in float32. */
  readonly gradFloat32: boolean;
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  readonly ignoreIndex: number;
  /** Share of rows whose target is set to ignoreIndex. */
  readonly ignoredFraction: number;
  readonly zLoss: number;
  /** 0: no softcap. */
  readonly softcap: number;
  readonly bias: boolean;
  readonly weighted: boolean;
  readonly grad: GradChoice;
  /** Bytes of logits one chunk of rows may hold. */
  readonly memoryBudget: number;
  readonly seed: number;
}

const MIB = 1024 * 1024;

/** The presets: the shape and the memory budget; every other field stays as the form has it. */
export const LINEAR_PRESETS = {
  small: { label: 'small (V 1 000)', rows: 64, depth: 32, classes: 1000, memoryBudget: DEFAULT_MEMORY_BUDGET },
  // Four chunks of 64 rows: the peak holds one chunk's logits, not all N × V of them.
  gpt2: { label: 'GPT-2 vocabulary (V 50 257)', rows: 256, depth: 16, classes: 50_257, memoryBudget: 16 * MIB },
} as const;
export type LinearPreset = keyof typeof LINEAR_PRESETS;

/**
 * The float64 reference does about N·V·D multiply-adds per product (the logits, then d(hidden) and
 * d(classifier) if asked), some 300 million a second in a browser's JavaScript: past this many it
 * runs on the first rows only.
 */
export const REFERENCE_MAX_MULTIPLY_ADDS = 1e9;
/** ... and past this many logits (it holds them and their gradient in float64: 256 MiB at this count). */
export const REFERENCE_MAX_LOGITS = 2 ** 24;

/** Multiply-adds of the reference's products for one row: the logits, then d(hidden) and d(classifier) if asked. */
function multiplyAddsPerRow(spec: LinearSpec): number {
  return spec.classes * spec.depth * (1 + Number(spec.grad.hidden) + Number(spec.grad.classifier));
}

/** Multiply-adds of the reference on all N rows. */
export function referenceMultiplyAdds(spec: LinearSpec): number {
  return spec.rows * multiplyAddsPerRow(spec);
}

/** The rows the reference is run on: all N, or the first k (at least 1) where all would cost too much. */
export function referenceRows(spec: LinearSpec): number {
  const perRow = multiplyAddsPerRow(spec);
  const affordable = Math.min(Math.floor(REFERENCE_MAX_MULTIPLY_ADDS / perRow), Math.floor(REFERENCE_MAX_LOGITS / spec.classes));
  return Math.max(1, Math.min(spec.rows, affordable));
}

/** The arrays of a problem, stored as its dtype. */
export interface LinearData {
  readonly hidden: StoredLogits;
  readonly classifier: StoredLogits;
  readonly target: { readonly data: Int32Array; readonly shape: number[] };
  readonly bias: Float32Array;
  readonly weight: Float32Array;
  /** How far storing the draw as a 16-bit dtype moved hidden states and classifier (0 for float32). */
  readonly rounding: Rounding;
}

/**
 * The seeded draw: hidden ~ N(0, 1), classifier ~ N(0, 1/D) (so logits are about N(0, 1), as a
 * trained head's are), bias ~ N(0, 0.5²), weight uniform in [0.25, 2), targets uniform with the
 * ignored share set to ignoreIndex. Bias and weight are drawn whether used or not, so turning one on
 * leaves every other value as it was.
 */
export function buildLinear(spec: LinearSpec): LinearData {
  const { rows, depth, classes } = spec;
  const random = new Random(spec.seed);
  const scale = 1 / Math.sqrt(depth);
  const hidden = Float32Array.from({ length: rows * depth }, () => random.normal());
  const classifier = Float32Array.from({ length: classes * depth }, () => random.normal() * scale);
  const target = Int32Array.from({ length: rows },
    () => (random.next() < spec.ignoredFraction ? spec.ignoreIndex : random.int(classes)));
  const bias = Float32Array.from({ length: classes }, () => random.normal() * 0.5);
  const weight = Float32Array.from({ length: classes }, () => random.uniform(0.25, 2));
  const h = storeLogits({ data: hidden, shape: [rows, depth] }, spec.dtype);
  const w = storeLogits({ data: classifier, shape: [classes, depth] }, spec.dtype);
  return {
    hidden: h.logits, classifier: w.logits, target: { data: target, shape: [rows] }, bias, weight,
    rounding: {
      maxAbsChange: Math.max(h.rounding.maxAbsChange, w.rounding.maxAbsChange),
      maxRelChange: Math.max(h.rounding.maxRelChange, w.rounding.maxRelChange),
    },
  };
}

/** The first `rows` rows of a problem (the whole classifier, bias and weight): what a reference subset checks. */
export function firstRows(data: LinearData, rows: number): LinearData {
  const depth = data.hidden.shape[1]!;
  return {
    ...data,
    hidden: { ...data.hidden, data: data.hidden.data.subarray(0, rows * depth), shape: [rows, depth] },
    target: { data: data.target.data.subarray(0, rows), shape: [rows] },
  };
}

/** The options `ce.linear` and its reference share: the loss's, the bias and the gradients asked for. */
function sharedOptions(spec: LinearSpec, data: LinearData) {
  const grad = { hidden: spec.grad.hidden, classifier: spec.grad.classifier, bias: spec.bias && spec.grad.bias };
  return {
    reduction: spec.reduction, labelSmoothing: spec.labelSmoothing, ignoreIndex: spec.ignoreIndex, zLoss: spec.zLoss,
    ...(spec.softcap > 0 ? { softcap: spec.softcap } : {}),
    ...(spec.bias ? { bias: data.bias } : {}),
    ...(spec.weighted ? { weight: data.weight } : {}),
    ...(grad.hidden || grad.classifier || grad.bias ? { grad } : {}),
  };
}

/** The options of the float64 reference. */
export function referenceOptions(spec: LinearSpec, data: LinearData): LinearReferenceOptions {
  return sharedOptions(spec, data);
}

/** `ce.linear`'s options: the reference's, the memory budget and, where chosen, float32 gradients. */
export function linearOptions(spec: LinearSpec, data: LinearData): LinearOptions {
  const options: LinearOptions = { ...sharedOptions(spec, data), memoryBudget: spec.memoryBudget };
  const wide = spec.gradFloat32 && isHalf(spec.dtype) && (spec.grad.hidden || spec.grad.classifier);
  return wide ? { ...options, gradDtype: 'float32' } : options;
}

/** The dtype a gradient comes back in: the bias's is float32; the others their input's, or float32 if chosen. */
export function gradDtypeOf(spec: LinearSpec, name: keyof GradChoice): Dtype {
  return name === 'bias' || spec.gradFloat32 ? 'float32' : spec.dtype;
}

/** Bytes of N·V float32 logits: what a head that materialises them holds (and as much again for their gradient). */
export function logitBytes(spec: Pick<LinearSpec, 'rows' | 'classes'>): number {
  return spec.rows * spec.classes * 4;
}

/**
 * The smallest normal float32: allowed on top of a gradient's tolerance, as a GPU may flush a
 * subnormal result to zero (the library's tests allow it too).
 */
const MIN_NORMAL_F32 = 2 ** -126;

/**
 * The linear head's tolerance (docs/accuracy.md, the linear head; the form the library's tests hold
 * `ce.linear` to): the loss (each row's for 'none') within 1e-5 + 1e-5·|e|; each gradient element
 * within 1e-5·max|e| + 1e-4·|e| (plus 2⁻¹²⁶, and half an ulp of a 16-bit gradient's dtype); both
 * scaled by D / 256 past D = 256, as each logit's rounding grows with D.
 */
export function linearTolerance(depth: number, expected?: ArrayLike<number>, dtype: Dtype = 'float32'): Tolerance {
  const scale = Math.max(1, depth / 256);
  if (expected === undefined) return { atol: scale * 1e-5, rtol: scale * 1e-5 };
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i]!));
  return { atol: scale * 1e-5 * max + MIN_NORMAL_F32, rtol: scale * 1e-4, dtype };
}

/** One quantity checked: its comparison and the tolerance it was held to. */
export interface CheckedQuantity {
  readonly name: 'loss' | keyof GradChoice;
  readonly comparison: Comparison;
  readonly tolerance: Tolerance;
}

/** A GPU result against the reference, quantity by quantity, with the library's compareArrays. */
export function checkLinear(spec: LinearSpec, gpu: LinearResult, reference: LinearReferenceResult): CheckedQuantity[] {
  const lossTolerance = linearTolerance(spec.depth);
  const checked: CheckedQuantity[] = [
    { name: 'loss', comparison: compareArrays(gpu.loss, reference.loss, lossTolerance), tolerance: lossTolerance },
  ];
  for (const name of ['hidden', 'classifier', 'bias'] as const) {
    const expected = reference.grad?.[name];
    if (expected === undefined) continue;
    const dtype = gradDtypeOf(spec, name);
    const got = gpu.grad?.[name];
    const values = got === undefined ? new Float32Array(0) : isHalf(dtype) ? decodeHalf(got as Uint16Array, dtype) : got;
    const tolerance = linearTolerance(spec.depth, expected, dtype);
    checked.push({ name, comparison: compareArrays(values, expected, tolerance), tolerance });
  }
  return checked;
}
