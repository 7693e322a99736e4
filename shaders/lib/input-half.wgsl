// The input stored as 16-bit floats, float16 or bfloat16, packed two per 32-bit word: element 2k
// in the low half of word k, element 2k + 1 in the high half. Rows are not padded, so a row of odd
// length shares a word with the next. Each value is converted to f32 exactly and the arithmetic is
// f32; nothing needs the `shader-f16` feature.
//
// Needs nothing from its includer. A kernel joins this file or lib/input-float32.wgsl (the input's
// dtype chooses, src/gpu/shader-modules.ts) and reads the input only through stored_input and
// stored_input4. Also here: rounding an f32 to either format (to nearest, ties to even), for the
// kernels that write a 16-bit gradient.
//
// Bindings (of the kernels this file is part of):
//   logits : the input, row-major [N, C, d1..dk], as words of two 16-bit values

override HALF_FORMAT: u32 = 1u;
const FLOAT16: u32 = 1u;
const BFLOAT16: u32 = 2u;

@group(0) @binding(1) var<storage, read> logits: array<u32>;

// The two values of a word, low half first. bfloat16 is the top half of an f32: a shift. float16
// through core WGSL's unpack2x16float, which is exact (every float16 is an f32).
fn unpack_halves(word: u32) -> vec2<f32> {
  if (HALF_FORMAT == FLOAT16) {
    return unpack2x16float(word);
  }
  return vec2<f32>(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u));
}

// The value at flat element `at`.
fn stored_input(at: u32) -> f32 {
  return unpack_halves(logits[at >> 1u])[at & 1u];
}

// Elements 4 at .. 4 at + 3: two whole words.
fn stored_input4(at: u32) -> vec4<f32> {
  return vec4<f32>(unpack_halves(logits[2u * at]), unpack_halves(logits[2u * at + 1u]));
}

// The bfloat16 bits of x, rounded to nearest even (the top half of its f32 bits, plus the carry
// of the bottom half: over half an ulp, or exactly half on an odd top). A rounding that carries
// out of the largest finite value gives infinity, as it should. NaN stays a quiet NaN.
fn bfloat16_bits(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  if (is_nan(x)) {
    return (bits >> 16u) | 0x0040u;
  }
  return (bits + 0x7fffu + ((bits >> 16u) & 1u)) >> 16u;
}

// The float16 bits of x, rounded to nearest even, from its f32 bits. pack2x16float rounds in a
// way WGSL leaves to the implementation, so it is written out: normal results round at bit 13 of
// the f32 fraction, as bfloat16_bits at bit 16; subnormal ones are a multiple of 2^-24, which
// round() takes to the nearest integer, ties to even (as WGSL defines it). A subnormal x a GPU
// flushed to 0 rounds to 0 too.
fn float16_bits(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  let sign = (bits >> 16u) & 0x8000u;
  let magnitude = bits & ABS_MASK;
  if (magnitude > INFINITY_BITS) {
    return sign | 0x7e00u;
  }
  // 65520 = 0x477ff000 is halfway between the largest float16, 65504, and 65536: it and all above
  // round to infinity.
  if (magnitude >= 0x477ff000u) {
    return sign | 0x7c00u;
  }
  // 2^-14 = 0x38800000, the smallest normal float16.
  if (magnitude >= 0x38800000u) {
    let rounded = magnitude + 0x0fffu + ((magnitude >> 13u) & 1u);
    // Exponent bias 127 becomes 15: subtract 112 << 23 before the shift.
    return sign | ((rounded - 0x38000000u) >> 13u);
  }
  return sign | u32(round(bitcast<f32>(magnitude) * 16777216.0));
}

// x rounded to the input's 16-bit format, as bits in the low half of the result.
fn half_bits(x: f32) -> u32 {
  if (HALF_FORMAT == FLOAT16) {
    return float16_bits(x);
  }
  return bfloat16_bits(x);
}
