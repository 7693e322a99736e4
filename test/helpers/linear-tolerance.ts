/**
 * The linear head's tolerance against its float64 reference (docs/accuracy.md, the linear head):
 * for unit-scale inputs the loss within s·(1e-5 + 1e-5·|e|) and each gradient element within
 * s·(1e-5·max|e| + 1e-4·|e|) + 2⁻¹²⁶, s = max(1, D / 256) (the logits' rounding grows with D; 2⁻¹²⁶,
 * the smallest normal f32, because a GPU may flush subnormal results to zero). A 16-bit gradient is
 * decoded and allowed half an ulp of its dtype more.
 */
import { decodeHalf, encodeHalf, type HalfDtype, type LinearReferenceResult, type LinearResult } from '../../src/index.js';

const MIN_NORMAL_F32 = 2 ** -126;

export function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

/** Half the distance from `value`'s 16-bit rounding to the next value away from zero. */
export function halfUlp(value: number, dtype: HalfDtype): number {
  const bits = encodeHalf([Math.abs(value)], dtype);
  const here = decodeHalf(bits, dtype)[0]!;
  const next = decodeHalf(Uint16Array.of(bits[0]! + 1), dtype)[0]!;
  return Number.isFinite(next) ? (next - here) / 2 : Infinity;
}

/**
 * The first differences of a GPU result from the reference beyond the tolerance (at most one per
 * gradient, three losses), or null. `halfGrads`: the dtype hidden's and classifier's gradients
 * come in, when 16-bit.
 */
export function linearMismatch(result: LinearResult, reference: LinearReferenceResult, depth: number,
  halfGrads?: HalfDtype): string | null {
  const s = Math.max(1, depth / 256);
  const problems: string[] = [];
  const want = typeof reference.loss === 'number' ? [reference.loss] : Array.from(reference.loss);
  const got = typeof result.loss === 'number' ? [result.loss] : Array.from(result.loss);
  if (got.length !== want.length) return `loss has ${got.length} values, the reference ${want.length}`;
  want.forEach((e, i) => {
    const g = got[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(g) : Math.abs(g - e) <= s * (1e-5 + 1e-5 * Math.abs(e));
    if (!ok && problems.length < 3) problems.push(`loss[${i}] = ${g}, reference ${e}`);
  });
  for (const name of ['hidden', 'classifier', 'bias'] as const) {
    const expected = reference.grad?.[name];
    const have = result.grad?.[name];
    if ((expected === undefined) !== (have === undefined)) {
      problems.push(`grad.${name} ${expected === undefined ? 'given but not asked for' : 'missing'}`);
      continue;
    }
    if (!expected || !have) continue;
    const half = name !== 'bias' && halfGrads !== undefined ? halfGrads : null;
    if ((have instanceof Uint16Array) !== (half !== null)) {
      problems.push(`grad.${name} is a ${have.constructor.name}`);
      continue;
    }
    if (have.length !== expected.length) {
      problems.push(`grad.${name} has ${have.length} values, the reference ${expected.length}`);
      continue;
    }
    const values = half ? decodeHalf(have as Uint16Array, half) : have;
    const atol = 1e-5 * maxAbs(expected) + MIN_NORMAL_F32 / s;
    for (let i = 0; i < expected.length; i++) {
      const tolerance = s * (atol + 1e-4 * Math.abs(expected[i]!)) + (half ? halfUlp(expected[i]!, half) : 0);
      if (!(Math.abs(values[i]! - expected[i]!) <= tolerance)) {
        problems.push(`grad.${name}[${i}] = ${values[i]}, reference ${expected[i]} (tolerance ${tolerance})`);
        break;
      }
    }
  }
  return problems.length === 0 ? null : problems.join('\n');
}
