// Special f32 values and tests on them, from their bits. WGSL lets a compiler assume there are no
// NaNs or infinities: a constant expression may not evaluate to one, and `x != x` or a comparison
// with a NaN may be folded away. Values are made from bits at run time and tested by their bits.
//
// Needs nothing from its includer.

const LARGEST_FINITE_F32_BITS: u32 = 0x7f7fffffu;
const QUIET_NAN_BITS: u32 = 0x7fc00000u;
const NEGATIVE_INFINITY_BITS: u32 = 0xff800000u;
const INFINITY_BITS: u32 = 0x7f800000u;
const NEGATIVE_ZERO_BITS: u32 = 0x80000000u;
const SIGN_BIT: u32 = 0x80000000u;
const ABS_MASK: u32 = 0x7fffffffu;

fn is_finite(x: f32) -> bool {
  return abs(x) <= bitcast<f32>(LARGEST_FINITE_F32_BITS);
}

fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & ~SIGN_BIT) > INFINITY_BITS;
}

fn is_nan4(x: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(x) & vec4<u32>(~SIGN_BIT)) > vec4<u32>(INFINITY_BITS);
}

fn quiet_nan() -> f32 {
  let bits = QUIET_NAN_BITS;
  return bitcast<f32>(bits);
}

fn negative_infinity() -> f32 {
  let bits = NEGATIVE_INFINITY_BITS;
  return bitcast<f32>(bits);
}
