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
//   logits       : the input, row-major [N, C, d1..dk], as words of two 16-bit values
//   logits_pairs : the same as pairs of words (four values): stored_input4 reads these, where
//                  the layout makes every group of four whole (a piece a multiple of 4 long)

override HALF_FORMAT: u32 = 1u;
const FLOAT16: u32 = 1u;
const BFLOAT16: u32 = 2u;

@group(0) @binding(1) var<storage, read> logits: array<u32>;
// The same two words at a time, for stored_input4 (an entry point uses one view or the other).
@group(0) @binding(1) var<storage, read> logits_pairs: array<vec2<u32>>;

// The four values of two words, low half first: float16 through core WGSL's unpack2x16float,
// which is exact (every float16, subnormals included, is a normal f32); bfloat16, the top half of
// an f32, by a shift.
fn unpack_words(words: vec2<u32>) -> vec4<f32> {
  if (HALF_FORMAT == FLOAT16) {
    return vec4<f32>(unpack2x16float(words.x), unpack2x16float(words.y));
  }
  let high = vec2<u32>(0xffff0000u);
  return bitcast<vec4<f32>>(vec4<u32>(words.x << 16u, words.x & high.x, words.y << 16u, words.y & high.y));
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
  return unpack_words(logits_pairs[at]);
}

// bfloat16 rounding to nearest even, in place: the top half of each f32, plus the carry of the
// bottom half (over half an ulp, or exactly half on an odd top); the bottom half is left to the
// caller to drop. A carry out of the largest finite value gives infinity, as it should; a NaN
// becomes the quiet NaN (a carry could turn some NaNs into infinities or zeros).
fn bfloat16_rounded4(x: vec4<f32>) -> vec4<u32> {
  let bits = bitcast<vec4<u32>>(x);
  let rounded = bits + vec4<u32>(0x7fffu) + ((bits >> vec4<u32>(16u)) & vec4<u32>(1u));
  return select(rounded, vec4<u32>(QUIET_NAN_BITS), (bits & vec4<u32>(ABS_MASK)) > vec4<u32>(INFINITY_BITS));
}

// The float16 bits of x, rounded to nearest even, from its f32 bits. pack2x16float rounds in a
// way WGSL leaves to the implementation (subnormal and out-of-range results differ between
// implementations), so it is written out: normal results round at bit 13 of the f32 fraction, as
// bfloat16 at bit 16; subnormal ones are a multiple of 2^-24, which round() takes to the nearest
// integer, ties to even (as WGSL defines it). A subnormal x a GPU flushed to 0 rounds to 0 too.
// Every case is computed and the right one selected: where SIMD lanes are emulated (SwiftShader)
// branches would run all the same.
fn float16_bits4(x: vec4<f32>) -> vec4<u32> {
  let bits = bitcast<vec4<u32>>(x);
  let magnitude = bits & vec4<u32>(ABS_MASK);
  // Clamped at 65536 (0x47800000), which the rounding below takes to infinity (0x7c00), as it
  // does from 65520, halfway between the largest float16 (65504) and 65536.
  let clamped = min(magnitude, vec4<u32>(0x47800000u));
  // The rounding carry (0x0fff, and the low bit kept on a tie) and the exponent's new bias (112 << 23
  // subtracted) in one constant: 0x0fff - 0x38000000 mod 2^32. Below the normal range it wraps,
  // unused.
  let normal = (clamped + vec4<u32>(0xc8000fffu) + ((clamped >> vec4<u32>(13u)) & vec4<u32>(1u))) >> vec4<u32>(13u);
  // Clamped so that the conversion stays in range where the value is not subnormal (unused then).
  let subnormal = vec4<u32>(round(min(bitcast<vec4<f32>>(magnitude) * 16777216.0, vec4<f32>(1024.0))));
  // 2^-14 = 0x38800000 is the smallest normal float16.
  let half = select(select(subnormal, normal, magnitude >= vec4<u32>(0x38800000u)), vec4<u32>(0x7e00u),
                    magnitude > vec4<u32>(INFINITY_BITS));
  return ((bits >> vec4<u32>(16u)) & vec4<u32>(0x8000u)) | half;
}

// Four values rounded to the input's 16-bit format, as bits in the low halves of the result.
fn half_bits4(x: vec4<f32>) -> vec4<u32> {
  if (HALF_FORMAT == FLOAT16) {
    return float16_bits4(x);
  }
  return bfloat16_rounded4(x) >> vec4<u32>(16u);
}

// Four values rounded to the input's 16-bit format, packed as two words (low half first).
fn half_words(x: vec4<f32>) -> vec2<u32> {
  if (HALF_FORMAT == FLOAT16) {
    let halves = float16_bits4(x);
    return vec2<u32>(halves.x | (halves.y << 16u), halves.z | (halves.w << 16u));
  }
  // The low values' top halves shift down; the high values' stay where they are.
  let rounded = bfloat16_rounded4(x);
  let high = vec2<u32>(0xffff0000u);
  return vec2<u32>((rounded.x >> 16u) | (rounded.y & high.x), (rounded.z >> 16u) | (rounded.w & high.y));
}
