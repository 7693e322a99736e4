/**
 * Seeded problems, shared by the tests, the benchmark and the demo page: logits of a chosen value
 * distribution, targets of a chosen kind, options. The same spec always builds the same arrays, so
 * a case seen anywhere is replayed from its name.
 */
import { encodeHalf, type HalfDtype, type InputKind, type Reduction } from '../src/index.js';
import { Random } from './random.js';

/** How logits are drawn. */
export type Values =
  | 'normal'        // N(0, 3)
  | 'pm88'          // uniform in [-88, 88]: exp() at the edge of f32
  | 'pm1e4'         // uniform in [-1e4, 1e4]
  | 'pm1e30'        // uniform in [-1e30, 1e30]: softmax is one-hot, losses are huge
  | 'nearlyEqual'   // 1e4 + N(0, 1): large values with small differences (cancellation-prone)
  | 'masked';       // N(0, 3) with about a third set to -inf, some target logits included

export interface CaseSpec {
  readonly shape: readonly number[];
  readonly targetKind: 'classIndex' | 'probabilities';
  readonly input?: InputKind;
  readonly reduction: Reduction;
  readonly weighted: boolean;
  readonly labelSmoothing: number;
  /** Fraction of class-index targets set to ignoreIndex. */
  readonly ignoredFraction: number;
  /** The ignored class index (default -100, PyTorch's). */
  readonly ignoreIndex?: number;
  readonly values: Values;
  readonly seed: number;
  readonly zLoss?: number;
  readonly softcap?: number;
  /** Also compute the gradient (with an upstream gradient for 'none'). */
  readonly grad?: boolean;
}

export interface BuiltCase {
  readonly logits: { data: Float32Array; shape: number[] };
  readonly target: { data: Int32Array | Float32Array; shape: number[] };
  readonly options: {
    reduction: Reduction; labelSmoothing: number; input: InputKind;
    weight?: Float32Array; ignoreIndex?: number; zLoss?: number; softcap?: number;
    grad?: boolean; gradOutput?: Float32Array;
  };
}

const IGNORE_INDEX = -100;

function layoutOf(shape: readonly number[]) {
  if (shape.length === 1) return { rows: 1, classes: shape[0]!, inner: 1, rowShape: [] as number[] };
  const [n, c, ...spatial] = shape as number[];
  const inner = spatial.reduce((a, b) => a * b, 1);
  return { rows: n! * inner, classes: c!, inner, rowShape: [n!, ...spatial] };
}

function drawLogit(random: Random, values: Values): number {
  switch (values) {
    case 'normal': return 3 * random.normal();
    case 'pm88': return random.uniform(-88, 88);
    case 'pm1e4': return random.uniform(-1e4, 1e4);
    case 'pm1e30': return random.uniform(-1e30, 1e30);
    case 'nearlyEqual': return 1e4 + random.normal();
    case 'masked': return random.next() < 0.33 ? -Infinity : 3 * random.normal();
  }
}

/** Replaces each row's values by its softmax (input 'probabilities') or log-softmax (input 'logProbabilities'). */
function normaliseRows(x: Float32Array, shape: readonly number[], input: InputKind): void {
  const { rows, classes, inner } = layoutOf(shape);
  for (let row = 0; row < rows; row++) {
    const base = Math.floor(row / inner) * classes * inner + (row % inner);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, x[base + c * inner]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(x[base + c * inner]! - max);
    for (let c = 0; c < classes; c++) {
      const logp = x[base + c * inner]! - max - Math.log(sum);
      // Math.fround keeps probabilities <= 1 after rounding to f32.
      x[base + c * inner] = input === 'probabilities' ? Math.min(1, Math.fround(Math.exp(logp))) : logp;
    }
  }
}

/** Builds the arrays and options of a spec. */
export function buildCase(spec: CaseSpec): BuiltCase {
  const random = new Random(spec.seed);
  const input = spec.input ?? 'logits';
  const { rows, classes, inner, rowShape } = layoutOf(spec.shape);
  const ignoreIndex = spec.ignoreIndex ?? IGNORE_INDEX;
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const logits = new Float32Array(size);
  for (let i = 0; i < size; i++) logits[i] = drawLogit(random, spec.values);
  if (input !== 'logits') normaliseRows(logits, spec.shape, input);

  let target: Int32Array | Float32Array;
  if (spec.targetKind === 'classIndex') {
    target = new Int32Array(rows);
    for (let row = 0; row < rows; row++) {
      target[row] = random.next() < spec.ignoredFraction ? ignoreIndex : random.int(classes);
    }
  } else {
    target = new Float32Array(size);
    for (let row = 0; row < rows; row++) {
      const base = Math.floor(row / inner) * classes * inner + (row % inner);
      let total = 0;
      for (let c = 0; c < classes; c++) total += (target[base + c * inner] = random.next() ** 4);
      for (let c = 0; c < classes; c++) target[base + c * inner] = Math.fround(target[base + c * inner]! / total);
    }
  }

  const options: BuiltCase['options'] = { reduction: spec.reduction, labelSmoothing: spec.labelSmoothing, input };
  if (spec.weighted) options.weight = Float32Array.from({ length: classes }, () => random.uniform(0.1, 2));
  if (spec.targetKind === 'classIndex') options.ignoreIndex = ignoreIndex;
  if (spec.zLoss) options.zLoss = spec.zLoss;
  if (spec.softcap) options.softcap = spec.softcap;
  if (spec.grad) {
    options.grad = true;
    if (spec.reduction === 'none') options.gradOutput = Float32Array.from({ length: rows }, () => random.uniform(-2, 2));
  }
  return {
    logits: { data: logits, shape: [...spec.shape] },
    target: { data: target, shape: spec.targetKind === 'classIndex' ? rowShape : [...spec.shape] },
    options,
  };
}

/** A built case whose logits are 16-bit. */
export interface HalfCase extends Omit<BuiltCase, 'logits'> {
  readonly logits: { data: Uint16Array; shape: number[]; dtype: HalfDtype };
}

/**
 * The same case with its logits rounded to a 16-bit dtype (to nearest even; values beyond
 * float16's ±65504 become ±inf). A probability input stays in [0, 1] when rounded; its row sums
 * move by the rounding, which the loss takes as given (PyTorch does not renormalise either).
 */
export function toHalfCase(built: BuiltCase, dtype: HalfDtype): HalfCase {
  return { ...built, logits: { data: encodeHalf(built.logits.data, dtype), shape: built.logits.shape, dtype } };
}

/** A short, replayable name for a spec. */
export function caseName(spec: CaseSpec): string {
  const parts = [
    `[${spec.shape.join(',')}]`, spec.targetKind, spec.input ?? 'logits', spec.reduction, spec.values,
    spec.weighted ? 'weighted' : '', spec.labelSmoothing ? `eps=${spec.labelSmoothing}` : '',
    spec.ignoredFraction ? `ignore=${spec.ignoredFraction}` : '', spec.zLoss ? `z=${spec.zLoss}` : '',
    spec.softcap ? `softcap=${spec.softcap}` : '', spec.grad ? 'grad' : '', `seed=${spec.seed}`,
  ];
  return parts.filter(Boolean).join(' ');
}
