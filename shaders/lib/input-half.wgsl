// The input stored as 16-bit floats, float16 or bfloat16, packed two per 32-bit word: element 2k
// in the low half of word k, element 2k + 1 in the high half. Rows are not padded, so a row of odd
// length shares a word with the next. Each value is converted to f32 exactly and the arithmetic is
// f32; nothing needs the `shader-f16` feature, nor the core pack/unpack2x16float.
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

// Four float16 values (bits in the low halves of `h`), exactly, by integer operations: the
// core unpack2x16float may be emulated at many times the cost. Normal values move their exponent
// bias from 15 to 127 (112 << 23 added); subnormal ones are their fraction times 2^-24 (exact in
// f32, and normal there); infinities and NaNs keep their fraction under an all-ones exponent.
fn float16_values(h: vec4<u32>) -> vec4<f32> {
  let magnitude = h & vec4<u32>(0x7fffu);
  let normal = (magnitude << vec4<u32>(13u)) + vec4<u32>(0x38000000u);
  let special = (magnitude << vec4<u32>(13u)) | vec4<u32>(INFINITY_BITS);
  let subnormal = bitcast<vec4<u32>>(vec4<f32>(magnitude) * 5.9604644775390625e-8);
  let bits = select(select(normal, special, magnitude >= vec4<u32>(0x7c00u)), subnormal,
                    magnitude < vec4<u32>(0x0400u));
  return bitcast<vec4<f32>>(bits | ((h & vec4<u32>(0x8000u)) << vec4<u32>(16u)));
}

// The four values of two words, low half first. bfloat16 is the top half of an f32: a shift.
fn unpack_words(words: vec2<u32>) -> vec4<f32> {
  let halves = vec4<u32>(words.x, words.x >> 16u, words.y, words.y >> 16u);
  if (HALF_FORMAT == FLOAT16) {
    return float16_values(halves);
  }
  return bitcast<vec4<f32>>(halves << vec4<u32>(16u));
}

// The two values of a word, low half first.
fn unpack_halves(word: u32) -> vec2<f32> {
  return unpack_words(vec2<u32>(word, 0u)).xy;
}

// The value at flat element `at`.
fn stored_input(at: u32) -> f32 {
  return unpack_halves(logits[at >> 1u])[at & 1u];
}

// Elements 4 at .. 4 at + 3: two whole words.
fn stored_input4(at: u32) -> vec4<f32> {
  return unpack_words(vec2<u32>(logits[2u * at], logits[2u * at + 1u]));
}

// The bfloat16 bits of x, rounded to nearest even (the top half of its f32 bits, plus the carry
// of the bottom half: over half an ulp, or exactly half on an odd top). A rounding that carries
// out of the largest finite value gives infinity, as it should; NaN stays a quiet NaN.
fn bfloat16_bits4(x: vec4<f32>) -> vec4<u32> {
  let bits = bitcast<vec4<u32>>(x);
  let rounded = (bits + vec4<u32>(0x7fffu) + ((bits >> vec4<u32>(16u)) & vec4<u32>(1u))) >> vec4<u32>(16u);
  return select(rounded, (bits >> vec4<u32>(16u)) | vec4<u32>(0x0040u), is_nan4(x));
}

// The float16 bits of x, rounded to nearest even, from its f32 bits. pack2x16float rounds in a
// way WGSL leaves to the implementation, so it is written out: normal results round at bit 13 of
// the f32 fraction, as bfloat16_bits4 at bit 16; subnormal ones are a multiple of 2^-24, which
// round() takes to the nearest integer, ties to even (as WGSL defines it). A subnormal x a GPU
// flushed to 0 rounds to 0 too. Every case is computed and the right one selected: where SIMD
// lanes are emulated (SwiftShader) branches would run all the same.
fn float16_bits4(x: vec4<f32>) -> vec4<u32> {
  let bits = bitcast<vec4<u32>>(x);
  let sign = (bits >> vec4<u32>(16u)) & vec4<u32>(0x8000u);
  let magnitude = bits & vec4<u32>(ABS_MASK);
  // Exponent bias 127 becomes 15: 112 << 23 is subtracted before the shift (it wraps, unused,
  // below the normal range).
  let normal = (magnitude + vec4<u32>(0x0fffu) + ((magnitude >> vec4<u32>(13u)) & vec4<u32>(1u))
                - vec4<u32>(0x38000000u)) >> vec4<u32>(13u);
  // Clamped so that the conversion stays in range where the value is not subnormal (unused then).
  let subnormal = vec4<u32>(round(min(bitcast<vec4<f32>>(magnitude) * 16777216.0, vec4<f32>(1024.0))));
  // 2^-14 = 0x38800000 is the smallest normal float16; 65520 = 0x477ff000, halfway between the
  // largest float16 (65504) and 65536, and all above round to infinity.
  var half = select(subnormal, normal, magnitude >= vec4<u32>(0x38800000u));
  half = select(half, vec4<u32>(0x7c00u), magnitude >= vec4<u32>(0x477ff000u));
  half = select(half, vec4<u32>(0x7e00u), magnitude > vec4<u32>(INFINITY_BITS));
  return sign | half;
}

// Four values rounded to the input's 16-bit format, as bits in the low halves of the result.
fn half_bits4(x: vec4<f32>) -> vec4<u32> {
  if (HALF_FORMAT == FLOAT16) {
    return float16_bits4(x);
  }
  return bfloat16_bits4(x);
}
