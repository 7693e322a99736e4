/**
 * The linear head's arguments, validated: hidden states [N, D] (or [d0, …, dk, D]), a classifier
 * [V, D], class-index targets and the options, read into a `LinearProblem`, or a TypeError /
 * RangeError naming the argument and the value. Shared by `ce.linear`, `ce.linearGpu` and
 * `linearCrossEntropyReference`, so that all three accept and reject the same calls.
 */
import { DTYPES } from './half-precision.js';
import {
  checkF32Tensor, checkFinite, checkFloatData, checkGpuBuffer, checkGradOutput, checkHostValues, checkLength, checkLogitsData, readBoolean, readDtype,
  readScalarOptions, readTensor, checkWeight, type AcceptedData, type ForwardOptionsIn, type Problem,
} from './options.js';
import { formatShape, product, sameShape } from './shape.js';
import { describeKind, isGpuBuffer } from './tensor-data.js';
import type { Dtype } from './types.js';

/** Which of the three gradients a call computes. */
export interface LinearGrads {
  readonly hidden: boolean;
  readonly classifier: boolean;
  readonly bias: boolean;
}

/** A validated linear-head call. */
export interface LinearProblem {
  readonly hiddenShape: readonly number[];
  readonly targetShape: readonly number[];
  /** N: rows of hidden states (the product of all but the last dimension). */
  readonly rows: number;
  /** D: the hidden size. */
  readonly depth: number;
  /** V: the classes (rows of the classifier). */
  readonly classes: number;
  readonly hiddenDtype: Dtype;
  readonly classifierDtype: Dtype;
  readonly hasBias: boolean;
  readonly grads: LinearGrads;
  /** The dtypes of d(hidden) and d(classifier): their inputs' own, or 'float32'. */
  readonly hiddenGradDtype: Dtype;
  readonly classifierGradDtype: Dtype;
  /**
   * The cross-entropy of the logits [N, V] as a row problem (f32 logits, class indices, the options;
   * a gradient whenever any of the three is asked for, written over the logits).
   */
  readonly rowProblem: Problem;
}

function fail(kind: 'type' | 'range', message: string): never {
  throw kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/** Reads `grad`: all three (`true`), none (`false`, absent), or those named. */
export function readGradRequest(grad: unknown, hasBias: boolean): LinearGrads {
  if (grad === undefined || typeof grad === 'boolean') {
    const all = grad === true;
    return { hidden: all, classifier: all, bias: all && hasBias };
  }
  if (typeof grad !== 'object' || grad === null) {
    fail('type', `options.grad must be a boolean or { hidden?, classifier?, bias? }, got ${describeKind(grad)}`);
  }
  const known = ['hidden', 'classifier', 'bias'];
  for (const key of Object.keys(grad)) {
    if (!known.includes(key)) fail('type', `options.grad: unknown gradient "${key}" (known: ${known.join(', ')})`);
  }
  const request = grad as { hidden?: unknown; classifier?: unknown; bias?: unknown };
  const bias = readBoolean('options.grad.bias', request.bias, false);
  if (bias && !hasBias) fail('range', 'options.grad.bias asks for the gradient of a bias, but options.bias is absent');
  return {
    hidden: readBoolean('options.grad.hidden', request.hidden, false),
    classifier: readBoolean('options.grad.classifier', request.classifier, false),
    bias,
  };
}

/** The linear head's options as read here (each checked for its kind). */
export interface LinearOptionsIn extends ForwardOptionsIn {
  readonly bias?: unknown;
  readonly weight?: unknown;
  readonly gradOutput?: unknown;
  readonly gradDtype?: unknown;
}

/**
 * Checks shapes, data kinds and lengths and the options (not the values of targets, weights or
 * bias: see checkLinearHostValues); returns the problem they describe.
 */
export function describeLinearProblem(hiddenIn: unknown, classifierIn: unknown, targetIn: unknown, optionsIn: unknown,
  accepted: AcceptedData): LinearProblem {
  const hidden = readTensor('hidden', hiddenIn);
  const classifier = readTensor('classifier', classifierIn);
  const target = readTensor('target', targetIn);
  const hiddenDtype = readDtype('hidden', hidden);
  const classifierDtype = readDtype('classifier', classifier);
  checkF32Tensor('target', target);
  if (hiddenDtype !== 'float32' && classifierDtype !== 'float32' && hiddenDtype !== classifierDtype) {
    fail('type', `hidden.dtype '${hiddenDtype}' and classifier.dtype '${classifierDtype}': 16-bit hidden states and `
      + 'classifier must share one format (or one of them be f32)');
  }
  if (optionsIn !== undefined && (typeof optionsIn !== 'object' || optionsIn === null)) {
    fail('type', `options must be an object, got ${describeKind(optionsIn)}`);
  }
  const options = (optionsIn ?? {}) as LinearOptionsIn;
  checkLogitsData('hidden.data', hidden.data, hiddenDtype, accepted);
  checkLogitsData('classifier.data', classifier.data, classifierDtype, accepted);
  if (hidden.shape.length < 2) {
    fail('range', `hidden.shape must be [N, D] or [d0, …, dk, D], got ${formatShape(hidden.shape)}`);
  }
  const depth = hidden.shape.at(-1)!;
  if (depth < 1) fail('range', `hidden.shape's last dimension (D) must be at least 1, got ${depth}`);
  if (classifier.shape.length !== 2 || classifier.shape[1] !== depth) {
    fail('range', `classifier.shape must be [V, ${depth}] (nn.Linear(${depth}, V).weight's layout), got `
      + `${formatShape(classifier.shape)}`);
  }
  const classes = classifier.shape[0]!;
  if (classes < 1) fail('range', `classifier.shape[0] (classes) must be at least 1, got ${classes}`);
  const rowShape = hidden.shape.slice(0, -1);
  if (!sameShape(target.shape, rowShape)) {
    fail('range', `target.shape must be hidden.shape without D, ${formatShape(rowShape)}, got `
      + `${formatShape(target.shape)} (class indices only: the linear head takes no probability targets)`);
  }
  if (!(target.data instanceof Int32Array) && !(accepted.gpuBuffers && isGpuBuffer(target.data))) {
    fail('type', `target.data must be an Int32Array${accepted.gpuBuffers ? ' or GPUBuffer' : ''} of class indices, got `
      + `${describeKind(target.data)}`);
  }
  checkLength('hidden', hidden, hiddenDtype, true);
  checkLength('classifier', classifier, classifierDtype, true);
  checkLength('target', target);
  const rows = product(rowShape);
  if (rows > 2 ** 32 - 1) fail('range', `hidden has ${rows} rows; the GPU indexes rows with 32 bits`);

  if (options.input !== undefined) {
    fail('type', 'options.input: the linear head takes logits only (hidden · classifierᵀ + bias)');
  }
  const hasBias = options.bias !== undefined;
  if (hasBias) {
    checkFloatData('options.bias', options.bias, accepted);
    if (isGpuBuffer(options.bias)) {
      checkGpuBuffer('options.bias', options.bias, classes * 4, `${classes} classes need`);
    } else {
      const length = (options.bias as ArrayLike<number>).length;
      if (length !== classes) fail('range', `options.bias has ${length} elements but the classifier has ${classes} classes`);
    }
  }
  const grads = readGradRequest(options.grad, hasBias);
  const anyGrad = grads.hidden || grads.classifier || grads.bias;
  const scalars = readScalarOptions({ ...options, grad: anyGrad, gradInPlace: anyGrad }, 'classIndex');
  const gradDtype = options.gradDtype;
  if (gradDtype !== undefined) {
    if (!DTYPES.includes(gradDtype as Dtype)) {
      fail('type', `options.gradDtype must be one of ${DTYPES.map((d) => `'${d}'`).join(', ')}, got ${describeKind(gradDtype)}`);
    }
    if (gradDtype !== 'float32') {
      fail('range', `options.gradDtype: the gradients come in their inputs' dtypes by default; the only other choice is `
        + `'float32', got '${gradDtype as string}'`);
    }
    if (!grads.hidden && !grads.classifier) fail('range', 'options.gradDtype needs options.grad for hidden or classifier');
  }
  const logitsShape = [rows, classes];
  return {
    hiddenShape: hidden.shape, targetShape: target.shape, rows, depth, classes, hiddenDtype, classifierDtype, hasBias,
    grads,
    hiddenGradDtype: gradDtype === 'float32' ? 'float32' : hiddenDtype,
    classifierGradDtype: gradDtype === 'float32' ? 'float32' : classifierDtype,
    rowProblem: {
      logitsShape, targetShape: target.shape,
      layout: { rows, classes, inner: 1, rowShape: target.shape },
      targetKind: 'classIndex', ...scalars, dtype: 'float32', gradDtype: 'float32',
    },
  };
}

/**
 * Checks the values of host data before any GPU work: class indices in [0, V) or ignoreIndex, a
 * weight of V finite values, a gradOutput of one value per row ('none' only), a finite bias.
 * GPU-resident targets are checked on the GPU.
 */
export function checkLinearValues(problem: LinearProblem, target: unknown, options: LinearOptionsIn,
  accepted: AcceptedData): void {
  const { rowProblem } = problem;
  if (options.weight !== undefined) checkWeight(options.weight, problem.classes, accepted);
  if (options.gradOutput !== undefined) checkGradOutput(options.gradOutput, rowProblem, accepted);
  if (options.bias !== undefined && !isGpuBuffer(options.bias)) checkFinite('options.bias', options.bias as ArrayLike<number>);
  checkHostValues(rowProblem, undefined, target);
}
