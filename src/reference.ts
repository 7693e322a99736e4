/**
 * The float64 CPU reference: PyTorch's `cross_entropy` written as literally as possible, so that it
 * can judge the GPU result. It reads the same arguments and throws the same errors as `forward`.
 */
import {
  checkGradOutput, checkHostValues, checkWeight, describeProblem, type AcceptedData, type Problem,
} from './options.js';
import { readOptionNames } from './option-names.js';
import { logitValues } from './half-precision.js';
import type { Dtype, Float16ArrayLike, ReferenceOptions, ReferenceResult, Tensor } from './types.js';

const REFERENCE_DATA: AcceptedData = { floatArrays: [Float32Array, Float64Array], gpuBuffers: false };
/** PyTorch's BCELoss rule, also used for `input: 'probabilities'`: log p is clamped below at -100. */
const LOG_PROBABILITY_FLOOR = -100;

type Values = Float32Array | Float64Array;

/** One row of the problem: where its classes are and what its target says. */
interface RowView {
  /** Index of class c of this row in the flat logits: base + c * stride. */
  readonly base: number;
  readonly stride: number;
}

function rowView(problem: Problem, row: number): RowView {
  const { classes, inner } = problem.layout;
  const n = Math.floor(row / inner);
  return { base: n * classes * inner + (row % inner), stride: inner };
}

/** One row's log p in float64 (log_softmax, log, or identity) and, for logits, its log-sum-exp. */
interface RowLogProbabilities {
  readonly logp: Float64Array;
  /** log-sum-exp of the (softcapped) logits; 0 for inputs that are already probabilities. */
  readonly lse: number;
}

function logProbabilities(problem: Problem, x: Values, view: RowView): RowLogProbabilities {
  const { classes } = problem.layout;
  const values = new Float64Array(classes);
  for (let c = 0; c < classes; c++) values[c] = x[view.base + c * view.stride]!;
  if (problem.input === 'probabilities') {
    return { logp: values.map((p) => Math.max(Math.log(p), LOG_PROBABILITY_FLOOR)), lse: 0 };
  }
  if (problem.input === 'logProbabilities') return { logp: values, lse: 0 };
  const cap = problem.softcap;
  const v = cap > 0 ? values.map((t) => cap * Math.tanh(t / cap)) : values;
  let max = -Infinity;
  for (const t of v) max = Math.max(max, t);
  // As torch.logsumexp: an infinite max is replaced by 0 before exponentiating.
  const shift = Number.isFinite(max) ? max : 0;
  let sum = 0;
  for (const t of v) sum += Math.exp(t - shift);
  // (x - max) - log(sum), as PyTorch's log_softmax: x - (max + log(sum)) would lose log(sum) when
  // |max| is large (1e30 + log 2 == 1e30 in float64).
  const logSum = Math.log(sum);
  return { logp: v.map((t) => (t - shift) - logSum), lse: shift + logSum };
}

/**
 * d(row loss)/d(log p_c) for one row: the coefficient that multiplies each log-probability.
 * The row loss is -sum_c coef_c * logp_c.
 */
function logProbabilityCoefficients(
  problem: Problem, target: Values | Int32Array, row: number, view: RowView, weight: (c: number) => number,
): Float64Array {
  const { classes } = problem.layout;
  const eps = problem.labelSmoothing;
  const coef = new Float64Array(classes);
  if (problem.targetKind === 'probabilities') {
    for (let c = 0; c < classes; c++) {
      coef[c] = weight(c) * (target[view.base + c * view.stride]! * (1 - eps) + eps / classes);
    }
    return coef;
  }
  const y = target[row]!;
  if (eps > 0) for (let c = 0; c < classes; c++) coef[c] = (eps / classes) * weight(c);
  coef[y] = coef[y]! + (1 - eps) * weight(y);
  return coef;
}

/** Row loss: -sum coef_c * logp_c, as PyTorch evaluates it (its terms, its NaN for 0 * -inf). */
function rowLoss(problem: Problem, target: Values | Int32Array, row: number, logp: Float64Array,
  weight: (c: number) => number): number {
  const { classes } = problem.layout;
  const eps = problem.labelSmoothing;
  if (problem.targetKind === 'probabilities') {
    const view = rowView(problem, row);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const t = target[view.base + c * view.stride]! * (1 - eps) + eps / classes;
      sum += logp[c]! * t * weight(c);
    }
    return -sum;
  }
  const y = target[row]!;
  const nll = -weight(y) * logp[y]!;
  if (eps === 0) return nll;
  let smooth = 0;
  for (let c = 0; c < classes; c++) smooth += logp[c]! * weight(c);
  return (1 - eps) * nll + (eps / classes) * -smooth;
}

/**
 * Cross-entropy in float64 on the CPU, with PyTorch `F.cross_entropy` semantics: the judge of every
 * GPU result. Takes the same arguments as `CrossEntropy.forward` (typed arrays only; f32 or f64).
 *
 * @example
 * const { loss } = crossEntropyReference(
 *   { data: new Float32Array([0.7, 0.2, 0.1]), shape: [3] },
 *   { data: new Int32Array([0]), shape: [] },
 *   { input: 'probabilities' },
 * ); // 0.35667494393873245
 */
export function crossEntropyReference(
  logitsIn: Tensor<Values | Uint16Array | Float16ArrayLike> & { readonly dtype?: Dtype },
  targetIn: Tensor<Values | Int32Array>, options: ReferenceOptions = {},
): ReferenceResult {
  readOptionNames(options, 'crossEntropyReference');
  const problem = describeProblem(logitsIn, targetIn, options, REFERENCE_DATA);
  const { rows, classes } = problem.layout;
  if (options.weight !== undefined) checkWeight(options.weight, classes, REFERENCE_DATA);
  // 16-bit logits are read as their exact values (every float16 and bfloat16 value is an f32).
  const x = logitValues(logitsIn.data as Values | Uint16Array, problem.dtype) as Values;
  checkHostValues(problem, x, targetIn.data);
  if (options.gradOutput !== undefined) checkGradOutput(options.gradOutput, problem, REFERENCE_DATA);
  const gradOutput = options.gradOutput;

  const target = targetIn.data;
  const weights = options.weight;
  const weight = (c: number): number => (weights === undefined ? 1 : weights[c]!);
  const isIgnored = (row: number): boolean =>
    problem.targetKind === 'classIndex' && target[row] === problem.ignoreIndex;

  const perRow = new Float64Array(rows);
  let denominator = 0;
  for (let row = 0; row < rows; row++) {
    if (isIgnored(row)) continue;
    const { logp, lse } = logProbabilities(problem, x, rowView(problem, row));
    perRow[row] = rowLoss(problem, target, row, logp, weight) + (problem.zLoss === 0 ? 0 : problem.zLoss * lse * lse);
    denominator += problem.targetKind === 'classIndex' ? weight(target[row]!) : 1;
  }

  // A 'mean' over a total weight of 0 is undefined: NaN (PyTorch's 0 / 0, also with z-loss).
  const reduce = (sum: number): number => (problem.reduction === 'mean' ? (denominator === 0 ? NaN : sum / denominator) : sum);
  const loss = problem.reduction === 'none' ? perRow : reduce(perRow.reduce((acc, v) => acc + v, 0));
  const usedRows = perRow.reduce((acc, _, row) => acc + (isIgnored(row) ? 0 : 1), 0);
  const magnitude = {
    absLoss: reduce(perRow.reduce((acc, v) => acc + Math.abs(v), 0)),
    rows: reduce(usedRows),
  };
  const { gradDtype } = problem;
  if (!problem.grad) return { loss, magnitude, gradDtype };

  const grad = new Float64Array(x.length);
  for (let row = 0; row < rows; row++) {
    if (isIgnored(row)) continue;
    // 'mean' over a denominator of 0 (every used row of weight 0): the loss is x / 0 and its slope
    // is undefined, NaN for every used row, as PyTorch's backward (grad / total_weight) makes it.
    const scale = problem.reduction === 'mean' ? (denominator === 0 ? NaN : 1 / denominator)
      : problem.reduction === 'sum' ? 1 : (gradOutput?.[row] ?? 1);
    const view = rowView(problem, row);
    const rowLogp = logProbabilities(problem, x, view);
    const coef = logProbabilityCoefficients(problem, target, row, view, weight);
    writeRowGradient(problem, x, view, rowLogp, coef, scale, grad);
  }
  return { loss, grad, magnitude, gradDtype };
}

/**
 * d/dx of cap * tanh(x / cap) at u = x / cap: sech²(u) = 4e / (1 + e)² with e = exp(-2|u|), which
 * keeps its precision where tanh(u) is near ±1 (1 - tanh² would cancel there, even in float64).
 */
function softcapSlope(u: number): number {
  const e = Math.exp(-2 * Math.abs(u));
  return (4 * e) / ((1 + e) * (1 + e));
}

/** d(loss)/d(input) of one row, from the coefficients of its log-probabilities. */
function writeRowGradient(problem: Problem, x: Values, view: RowView, { logp, lse }: RowLogProbabilities,
  coef: Float64Array, scale: number, grad: Float64Array): void {
  const { classes } = problem.layout;
  // d(z lse^2)/dx_c = 2 z lse p_c joins the softmax term.
  const totalCoef = coef.reduce((acc, v) => acc + v, 0) + (problem.zLoss === 0 ? 0 : 2 * problem.zLoss * lse);
  const cap = problem.softcap;
  for (let c = 0; c < classes; c++) {
    const at = view.base + c * view.stride;
    let g: number;
    if (problem.input === 'logits') {
      // d/dx_c of -sum_j coef_j (x_j - lse) = p_c * sum_j coef_j - coef_c; softcap's chain rule.
      g = Math.exp(logp[c]!) * totalCoef - coef[c]!;
      if (cap > 0) g *= softcapSlope(x[at]! / cap);
    } else if (problem.input === 'logProbabilities') {
      g = -coef[c]!;
    } else {
      // log p clamped at the floor has zero slope there.
      const p = x[at]!;
      g = Math.log(p) > LOG_PROBABILITY_FLOOR ? -coef[c]! / p : 0;
    }
    grad[at] = scale * g;
  }
}
