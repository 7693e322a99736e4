/**
 * Comparing a GPU result with the float64 reference: |actual - expected| <= atol + rtol * |expected|
 * elementwise, with NaN matching NaN and an infinity matching the same infinity.
 */
import { decodeHalf, halfUlp, overflowThreshold } from './half-precision.js';
import type { Dtype, ReferenceResult } from './types.js';

/** An elementwise tolerance. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
  /**
   * The dtype the actual values were rounded to: half an ulp of it at the expected value is
   * allowed on top (none for 'float32', the default).
   */
  readonly dtype?: Dtype;
}

/** What an f32 GPU result must meet against the float64 reference (docs/accuracy.md). */
export const TOLERANCES = {
  /** Per-row losses (reduction 'none'). */
  rowLoss: { atol: 1e-6, rtol: 1e-5 },
  /**
   * The reduced loss ('mean' or 'sum'): rtol relative to the reduction of |row loss| (the same as
   * relative to the loss whenever row losses are non-negative, as they are for logits and
   * non-negative weights), plus each row's own atol carried through the reduction. See
   * `reducedLossTolerance`.
   */
  reducedLoss: { atol: 1e-6, rtol: 1e-5 },
  /** d(loss)/d(logits). */
  grad: { atol: 1e-6, rtol: 1e-4 },
} as const satisfies Record<string, Tolerance>;

/** One element outside the tolerance. */
export interface Mismatch {
  readonly index: number;
  readonly actual: number;
  readonly expected: number;
}

/** The outcome of a comparison. */
export interface Comparison {
  readonly ok: boolean;
  readonly count: number;
  /** Largest |actual - expected| over elements where both are finite. */
  readonly maxAbsError: number;
  /** Largest |actual - expected| / |expected| over finite elements with expected != 0. */
  readonly maxRelError: number;
  /** The first mismatching elements, in index order. */
  readonly mismatches: readonly Mismatch[];
  readonly mismatchCount: number;
}

const REPORTED_MISMATCHES = 8;

function sameNonFinite(a: number, e: number): boolean {
  return (Number.isNaN(a) && Number.isNaN(e)) || (a === e);
}

/**
 * Whether `got` is the infinity that a value within tolerance of `want` rounds to in the
 * tolerance's 16-bit dtype (a float16 gradient of -1e6 is -inf).
 */
function overflowed(got: number, want: number, tolerance: Tolerance): boolean {
  if (tolerance.dtype === undefined || tolerance.dtype === 'float32' || Number.isFinite(got) || !Number.isFinite(want)) {
    return false;
  }
  const reach = Math.abs(want) + tolerance.atol + tolerance.rtol * Math.abs(want);
  return Math.sign(got) === Math.sign(want) && reach >= overflowThreshold(tolerance.dtype);
}

/**
 * Compares two arrays (or two numbers) elementwise.
 *
 * @example
 * const c = compareArrays(new Float32Array([1, 2]), [1, 2.0000001], TOLERANCES.rowLoss);
 * c.ok; // true
 */
export function compareArrays(
  actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tolerance: Tolerance,
): Comparison {
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  const mismatches: Mismatch[] = [];
  let mismatchCount = 0;
  let maxAbsError = 0;
  let maxRelError = 0;
  const record = (index: number) => {
    mismatchCount++;
    if (mismatches.length < REPORTED_MISMATCHES) mismatches.push({ index, actual: a[index]!, expected: e[index]! });
  };
  if (a.length !== e.length) {
    return { ok: false, count: Math.max(a.length, e.length), maxAbsError: Infinity, maxRelError: Infinity,
      mismatches: [], mismatchCount: Math.abs(a.length - e.length) };
  }
  for (let i = 0; i < a.length; i++) {
    const got = a[i]!;
    const want = e[i]!;
    if (!Number.isFinite(got) || !Number.isFinite(want)) {
      if (!sameNonFinite(got, want) && !overflowed(got, want, tolerance)) record(i);
      continue;
    }
    const abs = Math.abs(got - want);
    maxAbsError = Math.max(maxAbsError, abs);
    if (want !== 0) maxRelError = Math.max(maxRelError, abs / Math.abs(want));
    const rounding = tolerance.dtype === undefined ? 0 : halfUlp(want, tolerance.dtype);
    if (!(abs <= tolerance.atol + tolerance.rtol * Math.abs(want) + rounding)) record(i);
  }
  return { ok: mismatchCount === 0, count: a.length, maxAbsError, maxRelError, mismatches, mismatchCount };
}

/** The comparison of a whole forward result (loss, and gradient when both have one). */
export interface ResultComparison {
  readonly ok: boolean;
  readonly loss: Comparison;
  readonly grad?: Comparison;
}

/**
 * Checks a GPU result against `crossEntropyReference` with the tolerances of `TOLERANCES`. A
 * 16-bit gradient (a Uint16Array of bit patterns, in the reference's `gradDtype`) is decoded and
 * allowed half an ulp of its dtype on top.
 *
 * @example
 * const gpu = await ce.forward(logits, target);
 * const check = compareWithReference(gpu, crossEntropyReference(logits, target));
 * if (!check.ok) console.table(check.loss.mismatches);
 */
export function compareWithReference(
  result: { readonly loss: number | Float32Array; readonly grad?: Float32Array | Uint16Array },
  reference: ReferenceResult,
): ResultComparison {
  if (typeof reference !== 'object' || reference === null || typeof reference.magnitude !== 'object') {
    throw new TypeError('compareWithReference: reference must be what crossEntropyReference returns (for binary '
      + 'cross-entropy, compare with compareArrays: its loss with TOLERANCES.rowLoss, its gradient with '
      + 'TOLERANCES.grad, decoded by decodeHalf and with the dtype if 16-bit)');
  }
  const loss = typeof reference.loss === 'number'
    ? compareArrays(result.loss, reference.loss, { atol: reducedLossTolerance(reference), rtol: 0 })
    : compareArrays(result.loss, reference.loss, TOLERANCES.rowLoss);
  if (result.grad === undefined || reference.grad === undefined) return { ok: loss.ok, loss };
  const { gradDtype } = reference;
  if ((result.grad instanceof Uint16Array) !== (gradDtype !== 'float32')) {
    throw new TypeError(`compareWithReference: result.grad is a ${result.grad.constructor.name} but the reference's `
      + `gradient is ${gradDtype} (a ${gradDtype === 'float32' ? 'Float32Array' : 'Uint16Array of bit patterns'}): `
      + (gradDtype === 'float32' ? 'give the reference the logits\' dtype and options.gradDtype of the GPU call'
        : 'pass the gradient as the GPU call returned it (its bit patterns; this decodes them), or give the '
          + 'reference the options.gradDtype of the GPU call'));
  }
  const gradValues = gradDtype === 'float32' ? result.grad : decodeHalf(result.grad as Uint16Array, gradDtype);
  const grad = compareArrays(gradValues, reference.grad, { ...TOLERANCES.grad, dtype: gradDtype });
  return { ok: loss.ok && grad.ok, loss, grad };
}

/**
 * The absolute tolerance of a reduced loss: a sum (or weighted mean) of rows, each allowed
 * TOLERANCES.reducedLoss.atol, whose rounding error scales with the sum of |row loss|, not with the
 * result (which may cancel to near 0 when log-probability inputs make row losses of both signs).
 */
export function reducedLossTolerance(reference: ReferenceResult): number {
  const { atol, rtol } = TOLERANCES.reducedLoss;
  return rtol * reference.magnitude.absLoss + atol * reference.magnitude.rows;
}

/**
 * A one-line summary of a comparison (`compareArrays`) or of a whole result's (`compareWithReference`),
 * for logs and failed assertions.
 *
 * @example
 * const check = compareWithReference(await ce.forward(logits, target, { grad: true }),
 *   crossEntropyReference(logits, target, { grad: true }));
 * console.log(describeComparison(check)); // "ok: loss ok: 1 values, …; grad ok: 6 values, …"
 */
export function describeComparison(c: Comparison | ResultComparison): string {
  if (isResultComparison(c)) {
    const parts = [`loss ${describeOne(c.loss)}`, ...(c.grad ? [`grad ${describeOne(c.grad)}`] : [])];
    return `${c.ok ? 'ok' : 'MISMATCH'}: ${parts.join('; ')}`;
  }
  return describeOne(c);
}

function isResultComparison(c: Comparison | ResultComparison): c is ResultComparison {
  return typeof c === 'object' && c !== null && 'loss' in c;
}

function describeOne(c: Comparison): string {
  if (typeof c !== 'object' || c === null || typeof c.count !== 'number' || !Array.isArray(c.mismatches)) {
    throw new TypeError('describeComparison: expected what compareArrays or compareWithReference returns, got '
      + `${c === null ? 'null' : typeof c}`);
  }
  const head = `${c.ok ? 'ok' : 'MISMATCH'}: ${c.count} values, max abs error ${c.maxAbsError.toExponential(2)}, `
    + `max rel error ${c.maxRelError.toExponential(2)}`;
  if (c.ok) return head;
  const first = c.mismatches.map((m) => `[${m.index}] ${m.actual} vs ${m.expected}`).join('; ');
  return `${head}; ${c.mismatchCount} outside tolerance, first: ${first}`;
}
