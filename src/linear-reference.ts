/**
 * The float64 reference of the linear head: cross-entropy of `hidden · classifierᵀ + bias`, with
 * class-index targets and every class-index option of `crossEntropyReference`, and the gradients
 * with respect to the hidden states, the classifier and the bias. The logits are formed in float64
 * from the exact values of the inputs (16-bit ones upcast exactly), and the loss and d(loss)/d(logits)
 * are `crossEntropyReference`'s: one implementation of the semantics. The GPU linear head is to be
 * judged by it; until that lands it is internal.
 */
import { logitValues } from './half-precision.js';
import { checkLinearValues, describeLinearProblem } from './linear-problem.js';
import { readOptionNames } from './option-names.js';
import { crossEntropyReference } from './reference.js';
import type { Dtype, Float16ArrayLike, LinearOptions, Tensor } from './types.js';

/** Hidden states [N, D] (or [d0, …, dk, D]) or a classifier [V, D]: f32 or 16-bit host data. */
export type LinearReferenceInput = Tensor<Float32Array | Float64Array | Uint16Array | Float16ArrayLike> & { readonly dtype?: Dtype };

/** Options of `linearCrossEntropyReference`: the linear head's, with host arrays only. */
export interface LinearReferenceOptions
  extends Omit<LinearOptions, 'bias' | 'weight' | 'gradOutput' | 'gradDtype' | 'memoryBudget'> {
  /** Added to every row's logits, length V (absent: none). */
  readonly bias?: Float32Array | Float64Array;
  /** Per-class weight, length V. */
  readonly weight?: Float32Array | Float64Array;
  /** Upstream gradient for reduction 'none', one value per row. */
  readonly gradOutput?: Float32Array | Float64Array;
}

/** The linear head's loss and the gradients asked for, in float64, in the inputs' shapes. */
export interface LinearReferenceResult {
  readonly loss: number | Float64Array;
  readonly grad?: {
    readonly hidden?: Float64Array;
    readonly classifier?: Float64Array;
    readonly bias?: Float64Array;
  };
}

const HOST_FLOATS = { floatArrays: [Float32Array, Float64Array], gpuBuffers: false } as const;

/**
 * The linear head in float64 on the CPU: `F.cross_entropy(hidden @ classifier.T + bias, target, …)`
 * with class-index targets, and its gradients with respect to hidden, classifier and bias.
 *
 * @example
 * const r = linearCrossEntropyReference(
 *   { data: new Float32Array([1, 0, 0, 1]), shape: [2, 2] },       // hidden [N = 2, D = 2]
 *   { data: new Float32Array([1, 0, 0, 1, 1, 1]), shape: [3, 2] }, // classifier [V = 3, D = 2]
 *   { data: new Int32Array([0, 2]), shape: [2] },
 *   { grad: true },
 * );
 * r.grad.classifier; // Float64Array of 6: d(loss)/d(classifier), [V, D]
 */
export function linearCrossEntropyReference(hidden: LinearReferenceInput, classifier: LinearReferenceInput,
  target: Tensor<Int32Array>, options: LinearReferenceOptions = {}): LinearReferenceResult {
  readOptionNames(options, 'linearCrossEntropyReference');
  const problem = describeLinearProblem(hidden, classifier, target, options, HOST_FLOATS);
  checkLinearValues(problem, target.data, options, HOST_FLOATS);
  const { rows, depth, classes, hiddenDtype, classifierDtype, grads: asked } = problem;
  const { bias, grad: _asked, ...lossOptions } = options;
  const anyGrad = asked.hidden || asked.classifier || asked.bias;

  // The logits in float64, from the exact input values.
  const h = logitValues(hidden.data as Float32Array | Uint16Array, hiddenDtype);
  const w = logitValues(classifier.data as Float32Array | Uint16Array, classifierDtype);
  const logits = new Float64Array(rows * classes);
  for (let n = 0; n < rows; n++) {
    for (let v = 0; v < classes; v++) {
      let sum = bias === undefined ? 0 : bias[v]!;
      for (let d = 0; d < depth; d++) sum += h[n * depth + d]! * w[v * depth + d]!;
      logits[n * classes + v] = sum;
    }
  }
  const reference = crossEntropyReference({ data: logits, shape: [rows, classes] },
    { data: target.data, shape: [rows] }, { ...lossOptions, grad: anyGrad });
  if (!anyGrad) return { loss: reference.loss };

  // d(loss)/d(logits) G [N, V]; then dH = G·W, dW = Gᵀ·H, db = the column sums of G.
  const g = reference.grad!;
  const result: { hidden?: Float64Array; classifier?: Float64Array; bias?: Float64Array } = {};
  if (asked.hidden) {
    const dh = new Float64Array(rows * depth);
    for (let n = 0; n < rows; n++) {
      for (let v = 0; v < classes; v++) {
        const gv = g[n * classes + v]!;
        for (let d = 0; d < depth; d++) dh[n * depth + d]! += gv * w[v * depth + d]!;
      }
    }
    result.hidden = dh;
  }
  if (asked.classifier) {
    const dw = new Float64Array(classes * depth);
    for (let n = 0; n < rows; n++) {
      for (let v = 0; v < classes; v++) {
        const gv = g[n * classes + v]!;
        for (let d = 0; d < depth; d++) dw[v * depth + d]! += gv * h[n * depth + d]!;
      }
    }
    result.classifier = dw;
  }
  if (asked.bias) {
    const db = new Float64Array(classes);
    for (let n = 0; n < rows; n++) for (let v = 0; v < classes; v++) db[v]! += g[n * classes + v]!;
    result.bias = db;
  }
  return { loss: reference.loss, grad: result };
}
