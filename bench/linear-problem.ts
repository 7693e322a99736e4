/**
 * The linear suite's problems and what their results are checked against: seeded hidden states,
 * classifier, bias and class indices; the float64 reference of the loss and its three gradients
 * (the library's linearCrossEntropyReference, over chunks of rows); the float64 products of the
 * matmul floor (no softmax: G is the logits themselves).
 */
import { decodeHalf, encodeHalf, linearCrossEntropyReference, type Dtype, type HalfDtype } from '../src/index.js';
import { Random } from '../problems/random.js';

/** A linear-head problem: f32 values, and the same rounded to 16 bits where the suite times them. */
export interface LinearBenchProblem {
  readonly n: number;
  readonly d: number;
  readonly v: number;
  /** hidden [n, d], classifier [v, d], bias [v], class indices [n]. */
  readonly hidden: Float32Array;
  readonly classifier: Float32Array;
  readonly bias: Float32Array;
  readonly targets: Int32Array;
}

/**
 * Hidden states uniform in [-1, 1), classifier rows uniform in [-4, 4) / √d (logits of standard
 * deviation about 1.3, as a trained head's spread), bias uniform in [-1, 1); seeded by the shape.
 */
export function makeLinearProblem(n: number, d: number, v: number): LinearBenchProblem {
  const random = new Random([n, d, v].reduce((a, b) => a * 31 + b, 11));
  const scale = 4 / Math.sqrt(d);
  const hidden = Float32Array.from({ length: n * d }, () => random.uniform(-1, 1));
  const classifier = Float32Array.from({ length: v * d }, () => random.uniform(-1, 1) * scale);
  const bias = Float32Array.from({ length: v }, () => random.uniform(-1, 1));
  const targets = Int32Array.from({ length: n }, () => random.int(v));
  return { n, d, v, hidden, classifier, bias, targets };
}

/** The inputs in `dtype`: f32 as they are, or 16-bit bit patterns, with the exact values they hold. */
export interface DtypeInputs {
  readonly dtype: Dtype;
  /** What the GPU reads: a Float32Array, or 16-bit bit patterns. */
  readonly hidden: Float32Array | Uint16Array;
  readonly classifier: Float32Array | Uint16Array;
  /** The values those hold (16-bit ones decoded exactly), for the host's float64 checks. */
  readonly hiddenValues: Float32Array;
  readonly classifierValues: Float32Array;
}

export function inputsIn(problem: LinearBenchProblem, dtype: Dtype): DtypeInputs {
  if (dtype === 'float32') {
    return { dtype, hidden: problem.hidden, classifier: problem.classifier, hiddenValues: problem.hidden,
      classifierValues: problem.classifier };
  }
  const hidden = encodeHalf(problem.hidden, dtype as HalfDtype);
  const classifier = encodeHalf(problem.classifier, dtype as HalfDtype);
  return { dtype, hidden, classifier, hiddenValues: decodeHalf(hidden, dtype as HalfDtype),
    classifierValues: decodeHalf(classifier, dtype as HalfDtype) };
}

/** The float64 loss ('mean') and its gradients with respect to hidden, classifier and bias. */
export interface LinearReference {
  readonly loss: number;
  readonly hidden: Float64Array;
  readonly classifier: Float64Array;
  readonly bias: Float64Array;
}

/** Rows the reference takes at a time: its N × V float64 logits and gradient stay small. */
const REFERENCE_ROWS = 64;

/**
 * linearCrossEntropyReference of `inputs` ('mean', bias, grad: true), computed over chunks of rows
 * with reduction 'sum' and divided by n: with no weights and no ignored rows the mean is that sum
 * over n, and each chunk's float64 logits and gradient are REFERENCE_ROWS × v instead of n × v.
 */
export function linearReference(problem: LinearBenchProblem, inputs: DtypeInputs): LinearReference {
  const { n, d, v } = problem;
  const classifier = { data: inputs.classifier, shape: [v, d], dtype: inputs.dtype };
  const hidden = new Float64Array(n * d);
  const gradClassifier = new Float64Array(v * d);
  const gradBias = new Float64Array(v);
  let loss = 0;
  for (let first = 0; first < n; first += REFERENCE_ROWS) {
    const rows = Math.min(REFERENCE_ROWS, n - first);
    const part = linearCrossEntropyReference(
      { data: inputs.hidden.subarray(first * d, (first + rows) * d), shape: [rows, d], dtype: inputs.dtype }, classifier,
      { data: problem.targets.subarray(first, first + rows), shape: [rows] }, { bias: problem.bias, reduction: 'sum', grad: true },
    );
    loss += part.loss as number;
    hidden.set(part.grad!.hidden!, first * d);
    part.grad!.classifier!.forEach((g, i) => { gradClassifier[i]! += g; });
    part.grad!.bias!.forEach((g, i) => { gradBias[i]! += g; });
  }
  const scale = (values: Float64Array) => values.map((x) => x / n);
  return { loss: loss / n, hidden: scale(hidden), classifier: scale(gradClassifier), bias: scale(gradBias) };
}

/**
 * The matmul floor's products in float64: logits L = H · Wᵀ + bias, then dH = L · W and
 * dW = Lᵀ · H (the floor has no softmax; its G is L), row by row.
 */
export function floorReference(problem: LinearBenchProblem, inputs: DtypeInputs): { hidden: Float64Array; classifier: Float64Array } {
  const { n, d, v, bias } = problem;
  const h = inputs.hiddenValues;
  const w = inputs.classifierValues;
  const gradHidden = new Float64Array(n * d);
  const gradClassifier = new Float64Array(v * d);
  const logits = new Float64Array(v);
  for (let row = 0; row < n; row++) {
    for (let c = 0; c < v; c++) {
      let sum = bias[c]!;
      for (let k = 0; k < d; k++) sum += h[row * d + k]! * w[c * d + k]!;
      logits[c] = sum;
    }
    for (let c = 0; c < v; c++) {
      const l = logits[c]!;
      for (let k = 0; k < d; k++) {
        gradHidden[row * d + k]! += l * w[c * d + k]!;
        gradClassifier[c * d + k]! += l * h[row * d + k]!;
      }
    }
  }
  return { hidden: gradHidden, classifier: gradClassifier };
}

/**
 * The error of `actual` against `expected`, relative to the largest expected magnitude:
 * max |a − e| / max |e| (normwise, so that an element near zero does not dominate).
 */
export function normwiseError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let error = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return Number.isNaN(error) ? Infinity : error / Math.max(scale, Number.MIN_VALUE);
}
