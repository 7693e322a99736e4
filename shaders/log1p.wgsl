// Shared by binary.wgsl and the row kernels (the host prepends it).
// log(1 + z) for z in [0, 1], from arithmetic alone: log(1 + z) = 2 atanh(s) with s = z / (2 + z)
// <= 1/3, summed to s^15 (relative error below 1e-8). The built-in log near 1 is only accurate to
// an absolute 2^-21 (the precision Vulkan requires of log in [0.5, 2]), which would cost
// small losses most of their digits.
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
