// Logarithms and exponentials exact to about an ulp, from arithmetic alone, where a GPU's built-ins
// are not: Vulkan lets `exp` be off by 3 + 2|x| ulp and `log` by 3 ulp (2^-21 absolute near 1).
// A loss near 0 is a log near 1, and a gradient that is a near-cancelled difference multiplies
// whatever error its terms carry. Shared by binary.wgsl and the row kernels.
//
// Needs from its includer: lib/float-bits.wgsl, joined before it.

// ln 2 split in two: LN2_HI has its low 11 bits zero, so n * LN2_HI is exact for |n| < 2^11.
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.4286068203094172e-6;
const LOG2_E: f32 = 1.4426950408889634;
// Below this argument exp(a) is under f32's normal range: the GPU's exp serves.
const PRECISE_EXP_FLOOR: f32 = -87.0;
// Bits of f32 1.0: a positive finite f32 at least 1 has bits in [ONE_BITS, INFINITY_BITS). The
// guards below test bits, not values (see lib/float-bits.wgsl); frexp of a NaN may well return
// finite parts.
const ONE_BITS: u32 = 0x3f800000u;

// log(1 + z) for z in [0, 1]: log(1 + z) = 2 atanh(s) with s = z / (2 + z) <= 1/3, summed to s^15
// (relative error below 1e-8).
fn log1p_unit(z: f32) -> f32 {
  let s = z / (2.0 + z);
  let s2 = s * s;
  var series = 1.0 / 15.0;
  series = 1.0 / 13.0 + s2 * series;
  series = 1.0 / 11.0 + s2 * series;
  series = 1.0 / 9.0 + s2 * series;
  series = 1.0 / 7.0 + s2 * series;
  series = 1.0 / 5.0 + s2 * series;
  series = 1.0 / 3.0 + s2 * series;
  series = 1.0 + s2 * series;
  return 2.0 * s * series;
}

// log(x) for a finite x >= 1: x = m 2^n with m in [1, 2), log x = n ln 2 + log(1 + (m - 1)).
// A NaN stays NaN (a GPU's log of one need not be: SwiftShader's is 88.7); anything else (below 1,
// +inf) goes to the GPU's log.
fn precise_log(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if ((bits & ABS_MASK) > INFINITY_BITS) {
    return x;
  }
  if (bits < ONE_BITS || bits >= INFINITY_BITS) {
    return log(x);
  }
  let parts = frexp(x);                    // x = fract 2^exp, fract in [0.5, 1)
  let n = f32(parts.exp - 1);
  let m = 2.0 * parts.fract;               // exact
  return n * LN2_HI + (n * LN2_LO + log1p_unit(m - 1.0));
}

// e^r for |r| <= ln 2 / 2 by its Taylor series to r^7 (truncation under 6e-9), of each component.
fn exp_series4(r: vec4<f32>) -> vec4<f32> {
  return 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0
         + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
}

// exp(a) to about 1 ulp: a = n ln 2 + r with |r| <= ln 2 / 2, e^r by exp_series4 (one lane of it),
// scaled by 2^n.
fn precise_exp(a: f32) -> f32 {
  let magnitude_bits = bitcast<u32>(a) & ABS_MASK;
  if (magnitude_bits > INFINITY_BITS) {
    return a;  // NaN stays NaN, as in precise_log
  }
  if (magnitude_bits == INFINITY_BITS || a <= PRECISE_EXP_FLOOR) {
    return exp(a);
  }
  let n = round(a * LOG2_E);
  let r = (a - n * LN2_HI) - n * LN2_LO;
  return ldexp(exp_series4(vec4<f32>(r)).x, i32(n));
}

// precise_exp of each component, without branches: for vector code whose lanes need it at once (a
// branch per lane would run all four bodies where SIMD lanes are emulated).
fn precise_exp4(a: vec4<f32>) -> vec4<f32> {
  let magnitude_bits = bitcast<vec4<u32>>(a) & vec4<u32>(ABS_MASK);
  let n = round(a * LOG2_E);
  let r = (a - n * LN2_HI) - n * LN2_LO;
  let e = exp_series4(r);
  // Lanes the scalar form hands to the GPU's exp (or returns as NaN) get their n clamped, so that
  // the unused ldexp stays in range.
  let built_in = (magnitude_bits >= vec4<u32>(INFINITY_BITS)) | (a <= vec4<f32>(PRECISE_EXP_FLOOR));
  let scaled = ldexp(e, vec4<i32>(select(n, vec4<f32>(0.0), built_in)));
  return select(select(scaled, exp(a), built_in), a, magnitude_bits > vec4<u32>(INFINITY_BITS));
}
