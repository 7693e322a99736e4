// Scanning a run of one row's classes into an online softmax state: shared by row-stats (one
// chunk of a row per invocation) and row-loss (a whole row, when it is one chunk long and not read
// as vec4s, so its statistics never go through memory).
//
// Needs from its includer: lib/row-common.wgsl and lib/class-weight.wgsl, joined before it, and
// `fn input_at(at: u32) -> f32`, the input value at flat element `at` (the kernel says where the
// input is read from: the input library's stored_input, or `grad` when the gradient overwrites it).
//
// Bindings (of the kernels this file is part of), besides the input's (lib/input-float32.wgsl or
// lib/input-half.wgsl):
//   class_target       : class indices [N, d1..dk] (read when TARGET_KIND == 0)
//   target_probability : class probabilities with the logits' layout (read when TARGET_KIND == 1)

@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<f32>;

// The class index of `row` as given (read when TARGET_KIND == 0: probability targets bind none).
fn class_target_of(row: u32) -> i32 {
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    return class_target[row];
  }
  return 0;
}

// Adds one class to the state. `w` is its weight, `tw` its weight times smoothed target mass.
// Branch-free, with one exponential: exp(-|x - max|) is the factor the sums shrink by where x is a
// new max, and x's own term where it is not (the same values the two sides of a branch would
// compute). Where SIMD lanes are emulated (SwiftShader) both sides of a branch run, each with its
// own exponential. Where x is at the max (also a run of -inf masks, where x - max is NaN) it adds
// exactly 1.
fn absorb(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, x: f32, w: f32, tw: f32) {
  var moved = false;
  var shift = 0.0;
  if (INPUT_KIND == INPUT_LOGITS) {
    let old_max = (*state).max_value;
    moved = x > old_max;
    let e = exp(-abs(x - old_max));
    // A new max: the whole old sum (its error folded in) and the old max's own 1 shrink by e; the
    // new max's 1 is implicit.
    let rescaled = (((*state).excess_exp + (*errors).excess_exp) + 1.0) * e;
    var excess = (*state).excess_exp;
    var error = (*errors).excess_exp;
    add_compensated(&excess, &error, select(e, 1.0, x == old_max));
    (*state).excess_exp = select(excess, rescaled, moved);
    (*errors).excess_exp = select(error, 0.0, moved);
    shift = select(0.0, x - old_max, moved);
    (*state).max_value = select(old_max, x, moved);
  }
  let dist = select((*state).max_value - x, 0.0, x == (*state).max_value);
  if (NEED_SMOOTHING_SUM) {
    // Where the max moved to this class, its own distance is 0 and the sum grows instead.
    let grown = grown_distance(shift, (*state).smooth_mass + (*errors).smooth_mass);
    add_compensated(&(*state).smooth_dist, &(*errors).smooth_dist, select(w * dist, grown, moved));
    add_compensated(&(*state).smooth_mass, &(*errors).smooth_mass, w);
  }
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    let grown = grown_distance(shift, (*state).target_mass + (*errors).target_mass);
    add_compensated(&(*state).target_dist, &(*errors).target_dist, select(tw * dist, grown, moved));
    add_compensated(&(*state).target_mass, &(*errors).target_mass, tw);
  }
  let minus_infinity = x == negative_infinity();
  mark_zero_times_infinity(state, minus_infinity && w == 0.0, minus_infinity && tw == 0.0);
}

// The state of classes [first, end) of `row`, in class order; x_y too if the target is among them.
fn scan_row(row: u32, first: u32, end: u32) -> RowState {
  let smooth_keep = 1.0 - params.label_smoothing;
  let smooth_spread = params.label_smoothing / f32(params.classes);

  // Index arithmetic once per invocation: integer division is slow where SIMD lanes are emulated.
  let base = element_index(row, first);
  let stride = params.inner;
  // No classes yet (excess -1: a sum of 0); the max starts at the first value rather than a
  // sentinel, so the first class shifts nothing.
  var state = RowState(0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  var errors = SumErrors(0.0, 0.0, 0.0, 0.0, 0.0);
  if (INPUT_KIND == INPUT_LOGITS) {
    state.max_value = log_space(input_at(base));
  }
  var at = base;
  for (var c = first; c < end; c++) {
    let w = class_weight(c);
    var tw = 0.0;
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      tw = w * (target_probability[at] * smooth_keep + smooth_spread);
    }
    absorb(&state, &errors, log_space(input_at(at)), w, tw);
    at += stride;
  }
  fold_sum_errors(&state, errors);
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    let y = local_class(class_target[row]);
    if (y >= i32(first) && y < i32(end)) {
      state.target_logit = log_space(input_at(element_index(row, u32(y))));
    }
  }
  return state;
}
