// Sums that keep the rounding error of each addition beside them (Neumaier's variant of Kahan's
// summation): a row adds C small terms, a batch N row losses, and the error of a plain f32 sum
// grows with the count. The order of the additions is fixed by the caller, so reruns are
// bit-identical.
//
// Needs from its includer: lib/float-bits.wgsl (is_finite), joined before it.

// *sum += x, with the rounding error of the addition added to *error.
fn add_compensated(sum: ptr<function, f32>, error: ptr<function, f32>, x: f32) {
  let t = *sum + x;
  *error += select((x - t) + *sum, (*sum - t) + x, abs(*sum) >= abs(x));
  *sum = t;
}

// The four values added to one sum one at a time, in order, each with its rounding error (a mass
// must stay exact to the last digits of a small weight beside a large one).
fn add_compensated4(sum: ptr<function, f32>, error: ptr<function, f32>, v: vec4<f32>) {
  add_compensated(sum, error, v.x);
  add_compensated(sum, error, v.y);
  add_compensated(sum, error, v.z);
  add_compensated(sum, error, v.w);
}

// add_compensated of each lane: four independent sums.
fn add_compensated_lanes(sum: ptr<function, vec4<f32>>, error: ptr<function, vec4<f32>>, x: vec4<f32>) {
  let t = *sum + x;
  *error += select((x - t) + *sum, (*sum - t) + x, abs(*sum) >= abs(x));
  *sum = t;
}

// A sum with its error folded in; an infinite or NaN sum as it is (its error, inf - inf, is NaN
// and meaningless).
fn compensated(sum: f32, error: f32) -> f32 {
  return select(sum, sum + error, is_finite(sum));
}
