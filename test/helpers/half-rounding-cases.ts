/**
 * The f32 values that test a rounding to 16 bits: every value of the 16-bit `dtype`, and for each
 * finite one the halfway point to its neighbour away from zero with the f32 values either side of
 * it (ties to even, and just off the tie either way). Shared by the tests of every GPU rounding.
 */
import { bfloat16Value, float16Value, type HalfDtype } from '../../src/half-precision.js';

/** The f32 value one ulp above (`up`, away from zero for positive values) or below `v`. */
export function nextF32(v: number, up: boolean): number {
  const f32 = new Float32Array([v]);
  const u32 = new Uint32Array(f32.buffer);
  u32[0]! += (v >= 0) === up ? 1 : -1;
  return f32[0]!;
}

export function roundingCases(dtype: HalfDtype): number[] {
  const valueOf = dtype === 'float16' ? float16Value : bfloat16Value;
  const largestFinite = dtype === 'float16' ? 0x7bff : 0x7f7f;
  const values: number[] = [];
  for (let bits = 0; bits < 0x10000; bits++) {
    const v = valueOf(bits);
    values.push(v);
    if ((bits & 0x7fff) < largestFinite) {
      const mid = Math.fround((v + valueOf(bits + 1)) / 2);
      values.push(mid, nextF32(mid, true), nextF32(mid, false));
    }
  }
  return values;
}
