/**
 * The dtypes the batch view offers for its logits: what each stores and its size, and the seeded
 * float32 draw rounded to it. The library takes 16-bit logits as their bit patterns in a Uint16Array,
 * so the GPU run and the float64 reference are given the very same rounded values.
 */
import { decodeHalf, encodeHalf, type Dtype, type HalfDtype } from '../src/index.js';

export interface DtypeInfo {
  /** Bytes of one stored value: what the upload of the logits (and a gradient of this dtype) costs. */
  readonly bytes: number;
  /** Significant bits, counting the implicit leading one: the precision rounding leaves. */
  readonly significantBits: number;
  /** What a person choosing it should know, in a few words. */
  readonly about: string;
}

export const DTYPE_INFO: Readonly<Record<Dtype, DtypeInfo>> = {
  float32: { bytes: 4, significantBits: 24, about: 'IEEE single precision, 24 significant bits: the values as drawn.' },
  float16: { bytes: 2, significantBits: 11, about: 'IEEE half precision, 11 significant bits, finite up to 65 504.' },
  bfloat16: { bytes: 2, significantBits: 8, about: 'The top half of a float32: 8 significant bits, float32\'s range.' },
};

export function isDtype(value: string): value is Dtype {
  return Object.hasOwn(DTYPE_INFO, value);
}

export function isHalf(dtype: Dtype): dtype is HalfDtype {
  return dtype !== 'float32';
}

/** Logits as the library takes them: f32 values, or 16-bit bit patterns with their dtype. */
export interface StoredLogits {
  readonly data: Float32Array | Uint16Array;
  readonly shape: number[];
  readonly dtype: Dtype;
}

/** How far rounding the draw to a 16-bit dtype moved its values (all 0 for float32). */
export interface Rounding {
  readonly maxAbsChange: number;
  readonly maxRelChange: number;
}

/**
 * The f32 draw stored as `dtype`: for a 16-bit dtype, each value rounded to nearest even, as
 * `encodeHalf` does; with how far that moved the values, read back through `decodeHalf`.
 */
export function storeLogits(drawn: { data: Float32Array; shape: number[] }, dtype: Dtype): { logits: StoredLogits; rounding: Rounding } {
  if (!isHalf(dtype)) return { logits: { ...drawn, dtype }, rounding: { maxAbsChange: 0, maxRelChange: 0 } };
  const bits = encodeHalf(drawn.data, dtype);
  const stored = decodeHalf(bits, dtype);
  let maxAbsChange = 0;
  let maxRelChange = 0;
  for (let i = 0; i < stored.length; i++) {
    const was = drawn.data[i]!;
    const change = Math.abs(stored[i]! - was);
    maxAbsChange = Math.max(maxAbsChange, change);
    if (was !== 0) maxRelChange = Math.max(maxRelChange, change / Math.abs(was));
  }
  return { logits: { data: bits, shape: drawn.shape, dtype }, rounding: { maxAbsChange, maxRelChange } };
}
