/**
 * The two 16-bit floating-point formats the logits may come in, as bit patterns in a Uint16Array:
 * IEEE binary16 ('float16': 5 exponent bits, 10 fraction bits) and bfloat16 (8 exponent bits, 7
 * fraction bits: the top half of an f32). Conversions to them round to nearest, ties to even, as
 * the GPU kernels do when they write a 16-bit gradient.
 */
import type { Dtype, Float16ArrayLike } from './types.js';

/** The 16-bit dtypes. */
export type HalfDtype = Exclude<Dtype, 'float32'>;

export const DTYPES: readonly Dtype[] = ['float32', 'float16', 'bfloat16'];

/** Bytes of one value of a dtype. */
export function dtypeBytes(dtype: Dtype): number {
  return dtype === 'float32' ? 4 : 2;
}

// One f32 seen as its bits, for the conversions below.
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** The f32 bit pattern of `value` rounded to f32 (to nearest even, as Math.fround). */
function bitsOfF32(value: number): number {
  f32[0] = value;
  return f32Bits[0]!;
}

/**
 * float16 bits of `value`, rounded to nearest even: overflow to ±inf, underflow through the
 * subnormals to ±0, NaN to a quiet NaN of the same sign. Rounds once, from the float64 value (a
 * float64 first rounded to f32 could round twice).
 */
export function float16Bits(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (Number.isNaN(value)) return 0x7e00;
  // 65520 is halfway between 65504 (the largest float16) and 65536: it rounds to even, which is inf.
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) {
    // Subnormal: a multiple of 2^-24. Math.round rounds halves up; ties go to even here.
    return sign | roundHalfEven(magnitude * 2 ** 24);
  }
  const exponent = Math.floor(Math.log2(magnitude));
  // log2 may be off by one next to a power of two: correct it from the value itself.
  const e = magnitude >= 2 ** (exponent + 1) ? exponent + 1 : magnitude < 2 ** exponent ? exponent - 1 : exponent;
  const fraction = roundHalfEven(magnitude / 2 ** (e - 10)); // in [1024, 2048]
  // A fraction rounded up to 2048 carries into the exponent: the bit layout adds it by itself.
  return sign | (((e + 15) << 10) + (fraction - 1024));
}

/** bfloat16 bits of `value`: the f32 value's top half, rounded to nearest even from the float64 value. */
export function bfloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7fc0;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  // The largest bfloat16 is (2 - 2^-7) * 2^127; halfway to 2^128 rounds to even, which is inf.
  if (magnitude >= (2 - 2 ** -8) * 2 ** 127) return sign | 0x7f80;
  if (magnitude < 2 ** -126) return sign | roundHalfEven(magnitude * 2 ** 133);
  const exponent = Math.floor(Math.log2(magnitude));
  const e = magnitude >= 2 ** (exponent + 1) ? exponent + 1 : magnitude < 2 ** exponent ? exponent - 1 : exponent;
  const fraction = roundHalfEven(magnitude / 2 ** (e - 7)); // in [128, 256]
  return sign | (((e + 127) << 7) + (fraction - 128));
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

/** The exact value of float16 bits. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** The exact value of bfloat16 bits (an f32 whose low 16 bits are 0). */
export function bfloat16Value(bits: number): number {
  f32Bits[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}

/** The value of 16-bit `bits` of `dtype`. */
function halfValue(bits: number, dtype: HalfDtype): number {
  return dtype === 'float16' ? float16Value(bits) : bfloat16Value(bits);
}

/**
 * Values rounded to a 16-bit dtype (to nearest, ties to even), as bit patterns.
 *
 * @example
 * const bits = encodeHalf([1, 0.1, -2], 'float16'); // Uint16Array [0x3c00, 0x2e66, 0xc000]
 * await ce.forward({ data: bits, shape: [1, 3], dtype: 'float16' }, target);
 */
export function encodeHalf(values: ArrayLike<number>, dtype: HalfDtype): Uint16Array {
  checkHalfDtype('encodeHalf', dtype);
  const round = dtype === 'float16' ? float16Bits : bfloat16Bits;
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = round(values[i]!);
  return bits;
}

/**
 * The values of 16-bit bit patterns, exactly (every float16 and bfloat16 value is an f32).
 *
 * @example
 * const { grad } = await ce.forward({ data: bits, shape: [N, C], dtype: 'bfloat16' }, target, { grad: true });
 * const values = decodeHalf(grad, 'bfloat16'); // Float32Array
 */
export function decodeHalf(bits: Uint16Array, dtype: HalfDtype): Float32Array {
  checkHalfDtype('decodeHalf', dtype);
  if (!(bits instanceof Uint16Array)) {
    const kind = bits === null ? 'null' : typeof bits === 'object' ? (bits as object).constructor?.name : typeof bits;
    throw new TypeError(`decodeHalf: bits must be a Uint16Array of ${dtype} bit patterns, got ${kind}${
      kind === 'Float32Array' ? ' (a Float32Array gradient, from gradDtype \'float32\', holds its values already)' : ''}`);
  }
  const values = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) values[i] = halfValue(bits[i]!, dtype);
  return values;
}

function checkHalfDtype(caller: string, dtype: unknown): void {
  if (dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new TypeError(`${caller}: dtype must be 'float16' or 'bfloat16', got ${
      typeof dtype === 'string' ? `'${dtype}'` : String(dtype)}`);
  }
}

/**
 * Half the spacing of `dtype`'s values at |value|: the most that rounding an exact value to the
 * dtype moves it (0 for float32, whose values the GPU writes without a second rounding).
 */
export function halfUlp(value: number, dtype: Dtype): number {
  if (dtype === 'float32' || !Number.isFinite(value)) return 0;
  const [fractionBits, minExponent] = dtype === 'float16' ? [10, -14] : [7, -126];
  const magnitude = Math.abs(value);
  const exponent = magnitude === 0 ? minExponent : Math.max(minExponent, Math.floor(Math.log2(magnitude)));
  return 2 ** (exponent - fractionBits - 1);
}

/** The smallest magnitude that rounds to infinity in a 16-bit dtype: halfway past its largest finite value. */
export function overflowThreshold(dtype: HalfDtype): number {
  return dtype === 'float16' ? 65520 : (2 - 2 ** -8) * 2 ** 127;
}

/** Bit patterns of 16-bit data: the array itself, or a Float16Array's bits. */
function halfBitsOf(data: Uint16Array | Float16ArrayLike | ArrayBufferView): Uint16Array {
  return data instanceof Uint16Array ? data : new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
}

/** Whether `data` is a Float16Array (by its tag: the runtime may have no Float16Array global). */
export function isFloat16Array(data: unknown): data is Float16ArrayLike {
  return ArrayBuffer.isView(data) && (data as Partial<Float16ArrayLike>)[Symbol.toStringTag] === 'Float16Array';
}

/** The values of host logits of `dtype`: f32 (or f64) data as it is, 16-bit bit patterns decoded. */
export function logitValues(data: Float32Array | Float64Array | Uint16Array | Float16ArrayLike, dtype: Dtype): ArrayLike<number> {
  return dtype === 'float32' ? data as Float32Array | Float64Array : decodeHalf(halfBitsOf(data), dtype);
}

/** Host logits as the array uploaded: f32 values, or 16-bit bit patterns. */
export function uploadedLogits(data: Float32Array | Uint16Array | Float16ArrayLike): Float32Array | Uint16Array {
  return data instanceof Float32Array ? data : halfBitsOf(data);
}
