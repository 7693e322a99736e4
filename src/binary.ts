/**
 * Binary cross-entropy: options, validation and the float64 reference. PyTorch `BCEWithLogitsLoss`
 *   l = w·[(1 − y)·x + (1 + (pw − 1)·y)·log(1 + e^−x)]
 * and, for `input: 'probabilities'`, `BCELoss` l = −w·[y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)].
 */
import {
  checkF32Tensor, checkFinite, checkFloatData, checkLength, checkLogitsData, checkUnitInterval, readBoolean, readDtype,
  readGradDtype, readTensor, type AcceptedData,
} from './options.js';
import { logitValues } from './half-precision.js';
import { readOptionNames } from './option-names.js';
import { formatShape, product, sameShape } from './shape.js';
import { describeKind, isGpuBuffer } from './tensor-data.js';
import type { Dtype, Float16ArrayLike, Reduction, Tensor } from './types.js';

/** Options of `CrossEntropy.binary` and `binaryCrossEntropyReference`. */
export interface BinaryOptions {
  /** 'mean' (default: over all elements), 'sum' or 'none'. */
  readonly reduction?: Reduction;
  /** 'logits' (default, BCEWithLogitsLoss) or 'probabilities' (BCELoss). */
  readonly input?: 'logits' | 'probabilities';
  /** Rescales each element; its length is the product of trailing dimensions (broadcast over the rest). */
  readonly weight?: Float32Array | Float64Array;
  /** Weight of positive examples per class of the last dimension (BCEWithLogitsLoss `pos_weight`). */
  readonly posWeight?: Float32Array | Float64Array;
  /** Also return d(loss)/d(input) (default false). */
  readonly grad?: boolean;
  /** Upstream gradient for reduction 'none', the input's shape (default: ones). */
  readonly gradOutput?: Float32Array | Float64Array;
  /** Write the gradient over a GPUBuffer input instead of a new buffer (default false). */
  readonly gradInPlace?: boolean;
  /** The gradient's dtype: the input's (default) or 'float32' (see CrossEntropyOptions.gradDtype). */
  readonly gradDtype?: Dtype;
}

/** A validated binary cross-entropy call. */
export interface BinaryProblem {
  readonly shape: readonly number[];
  readonly size: number;
  readonly input: 'logits' | 'probabilities';
  readonly reduction: Reduction;
  readonly grad: boolean;
  readonly gradInPlace: boolean;
  readonly dtype: Dtype;
  readonly gradDtype: Dtype;
}

const LOG_PROBABILITY_FLOOR = -100;
/** PyTorch's binary_cross_entropy_backward keeps p·(1 − p) at least this. */
const BCE_GRAD_EPSILON = 1e-12;

/** Elements held by host data, or whole f32 elements of a GPUBuffer. */
function length(value: unknown): number {
  return isGpuBuffer(value) ? Math.floor(value.size / 4) : (value as ArrayLike<number>).length;
}

/** weight, posWeight and gradOutput are host arrays only: their lengths set the kernel's broadcasting. */
function hostArraysOnly(accepted: AcceptedData): AcceptedData {
  return { ...accepted, gpuBuffers: false };
}

/** Checks a binary call; throws TypeError / RangeError naming the argument, position and value. */
export function describeBinaryProblem(logitsIn: unknown, targetIn: unknown, options: unknown,
  accepted: AcceptedData, method: 'CrossEntropy.binary' | 'binaryCrossEntropyReference'): BinaryProblem {
  const optionsIn = readOptionNames(options, method) as BinaryOptions;
  const logits = readTensor('logits', logitsIn);
  const target = readTensor('target', targetIn);
  const dtype = readDtype('logits', logits);
  checkF32Tensor('target', target);
  checkLogitsData('logits.data', logits.data, dtype, accepted);
  checkFloatData('target.data', target.data, accepted);
  if (!sameShape(target.shape, logits.shape)) {
    throw new RangeError(`target.shape ${formatShape(target.shape)} must equal logits.shape ${formatShape(logits.shape)}`);
  }
  checkLength('logits', logits, dtype, true);
  checkLength('target', target);
  const size = product(logits.shape);
  const input = optionsIn.input ?? 'logits';
  if (input !== 'logits' && input !== 'probabilities') {
    throw new RangeError(`options.input must be 'logits' or 'probabilities', got ${describeKind(input)}`);
  }
  const reduction = optionsIn.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction)) {
    throw new RangeError(`options.reduction must be one of mean, sum, none, got ${describeKind(reduction)}`);
  }
  checkUnitInterval('target', target.data, target.shape);
  if (input === 'probabilities' && !isGpuBuffer(logits.data)) {
    checkUnitInterval('logits', logitValues(logits.data as Float32Array | Uint16Array, dtype), logits.shape);
  }
  if (optionsIn.weight !== undefined) {
    checkFloatData('options.weight', optionsIn.weight, hostArraysOnly(accepted));
    checkFinite('options.weight', optionsIn.weight);
    const suffixes = logits.shape.map((_, axis) => product(logits.shape.slice(axis)));
    if (!suffixes.includes(length(optionsIn.weight)) && !(length(optionsIn.weight) === 1)) {
      throw new RangeError(`options.weight has ${length(optionsIn.weight)} elements: it must cover trailing `
        + `dimensions of ${formatShape(logits.shape)} (one of ${[...suffixes, 1].join(', ')})`);
    }
  }
  if (optionsIn.posWeight !== undefined) {
    if (input === 'probabilities') throw new RangeError("options.posWeight applies to input 'logits' only (BCELoss has none)");
    checkFloatData('options.posWeight', optionsIn.posWeight, hostArraysOnly(accepted));
    checkFinite('options.posWeight', optionsIn.posWeight);
    const last = logits.shape.at(-1) ?? 1;
    if (length(optionsIn.posWeight) !== last) {
      throw new RangeError(`options.posWeight has ${length(optionsIn.posWeight)} elements but the last dimension has ${last}`);
    }
  }
  const grad = readBoolean('options.grad', optionsIn.grad, false);
  if (optionsIn.gradOutput !== undefined) {
    if (reduction !== 'none' || !grad) throw new RangeError("options.gradOutput needs reduction 'none' and grad: true");
    checkFloatData('options.gradOutput', optionsIn.gradOutput, hostArraysOnly(accepted));
    if (length(optionsIn.gradOutput) !== size) {
      throw new RangeError(`options.gradOutput has ${length(optionsIn.gradOutput)} elements but the loss has ${size}`);
    }
  }
  const gradInPlace = readBoolean('options.gradInPlace', optionsIn.gradInPlace, false);
  if (gradInPlace && !grad) throw new RangeError('options.gradInPlace needs options.grad: true');
  const gradDtype = readGradDtype(optionsIn, dtype, grad, gradInPlace);
  return { shape: logits.shape, size, input, reduction, grad, gradInPlace, dtype, gradDtype };
}

/** log(1 + e^−x) for any x, without overflow. */
function softplusOfNegative(x: number): number {
  return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function sigmoid(x: number): number {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/**
 * Binary cross-entropy in float64 on the CPU (PyTorch BCEWithLogitsLoss / BCELoss).
 *
 * @example
 * binaryCrossEntropyReference({ data: new Float64Array([0]), shape: [1] },
 *   { data: new Float64Array([1]), shape: [1] }).loss; // log 2
 */
export function binaryCrossEntropyReference(
  logits: Tensor<Float32Array | Float64Array | Uint16Array | Float16ArrayLike> & { readonly dtype?: Dtype },
  target: Tensor<Float32Array | Float64Array>, options: Omit<BinaryOptions, 'gradInPlace'> = {},
): { loss: number | Float64Array; grad?: Float64Array; gradDtype: Dtype } {
  const problem = describeBinaryProblem(logits, target, options,
    { floatArrays: [Float32Array, Float64Array], gpuBuffers: false }, 'binaryCrossEntropyReference');
  const { size, gradDtype } = problem;
  // 16-bit logits are read as their exact values.
  const values = logitValues(logits.data, problem.dtype);
  const last = problem.shape.at(-1) ?? 1;
  const losses = new Float64Array(size);
  const slopes = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const x = values[i]!;
    const y = target.data[i]!;
    const w = options.weight ? options.weight[i % options.weight.length]! : 1;
    if (problem.input === 'logits') {
      const pw = options.posWeight ? options.posWeight[i % last]! : 1;
      const logWeight = 1 + (pw - 1) * y;
      losses[i] = w * ((1 - y) * x + logWeight * softplusOfNegative(x));
      slopes[i] = w * (logWeight * sigmoid(x) - pw * y);
    } else {
      const logP = Math.max(Math.log(x), LOG_PROBABILITY_FLOOR);
      const logQ = Math.max(Math.log(1 - x), LOG_PROBABILITY_FLOOR);
      losses[i] = -w * (y * logP + (1 - y) * logQ);
      slopes[i] = (w * (x - y)) / Math.max(x * (1 - x), BCE_GRAD_EPSILON);
    }
  }
  const sum = losses.reduce((a, b) => a + b, 0);
  const loss = problem.reduction === 'none' ? losses : problem.reduction === 'sum' ? sum : sum / size;
  if (!problem.grad) return { loss, gradDtype };
  const scale = problem.reduction === 'mean' ? 1 / size : 1;
  const grad = slopes.map((s, i) => scale * s * (options.gradOutput ? options.gradOutput[i]! : 1));
  return { loss, grad, gradDtype };
}
