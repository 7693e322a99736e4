// Scanning four neighbouring rows of a K-dimensional layout at once, one per vec4 lane: in
// [N, C, d1..dk] with d1 * ... * dk a multiple of 4, rows 4j .. 4j + 3 are four neighbouring
// positions of one sample, so class c of all four is one aligned vec4 of the input. Each lane keeps
// its row's online softmax state as scan_row (lib/row-scan.wgsl) does for one row, with selects where
// scan_row branches: the lanes' maxima move at different classes. Used by the `main_lanes` of
// row-loss and row-loss-grad for rows one chunk long.
//
// Needs from its includer: lib/row-scan.wgsl (and what it needs), joined before it, and
// `fn input4_at(at: u32) -> vec4<f32>`, the input's vec4 at index `at` (the input library's
// stored_input4, or the gradient's vec4 view when the gradient overwrites the input).
//
// Four rows per invocation read 16 bytes per class instead of 4, and pay the loop and the
// addressing once for the four. Unlike row-scan-vec4's walk, it takes one class a step: in blocks
// of classes each lane's max would move once per block, at the cost of an extra vector exponential
// per block, which did not pay (docs/performance.md, kernel design choices).
//
// Bindings (of the kernels this file is part of), besides lib/row-scan.wgsl's:
//   target_probability4 : class probabilities, likewise (read when TARGET_KIND == 1)

@group(0) @binding(3) var<storage, read> target_probability4: array<vec4<f32>>;

// RowState (lib/row-common.wgsl) of four rows, a lane each.
struct LaneStates {
  max_value: vec4<f32>,
  excess_exp: vec4<f32>,
  smooth_dist: vec4<f32>,
  smooth_mass: vec4<f32>,
  target_dist: vec4<f32>,
  target_mass: vec4<f32>,
  target_logit: vec4<f32>,
}

// SumErrors (lib/row-common.wgsl) of four rows, a lane each.
struct LaneErrors {
  excess_exp: vec4<f32>,
  smooth_dist: vec4<f32>,
  smooth_mass: vec4<f32>,
  target_dist: vec4<f32>,
  target_mass: vec4<f32>,
}

// Four rows scanned: their states, the rounding errors of their sums, and their class indices as
// given (read when TARGET_KIND == 0).
struct LaneScan {
  states: LaneStates,
  errors: LaneErrors,
  class_targets: vec4<i32>,
}

// grown_distance (lib/row-common.wgsl) of each lane.
fn grown_distance_lanes(shift: vec4<f32>, mass: vec4<f32>) -> vec4<f32> {
  return select(shift * mass, vec4<f32>(0.0), (shift == vec4<f32>(0.0)) | (mass == vec4<f32>(0.0)));
}

// Adds class values `x` (one per lane, in log space) of weight `w` and weighted targets `tw`.
// One exponential per value: exp(-|x - max|) is the factor the lane's sum shrinks by where x is a
// new max, and x's own term where it is not. Where x is at the max (also a run of -inf masks,
// where x - max is NaN) it adds exactly 1.
fn absorb_lanes(s: ptr<function, LaneStates>, errors: ptr<function, LaneErrors>, x: vec4<f32>, w: f32,
                tw: vec4<f32>) {
  let zero = vec4<f32>(0.0);
  var moved = vec4<bool>(false);
  var shift = zero;
  if (INPUT_KIND == INPUT_LOGITS) {
    let old_max = (*s).max_value;
    moved = x > old_max;
    let at_max = x == old_max;
    let e = exp(-abs(x - old_max));
    // A new max: the whole old sum (its error folded in) and the old max's own 1 shrink by e; the
    // new max's 1 is implicit.
    let rescaled = ((*s).excess_exp + (*errors).excess_exp + 1.0) * e;
    var excess = (*s).excess_exp;
    var error = (*errors).excess_exp;
    add_compensated_lanes(&excess, &error, select(e, vec4<f32>(1.0), at_max));
    (*s).excess_exp = select(excess, rescaled, moved);
    (*errors).excess_exp = select(error, zero, moved);
    shift = select(zero, x - old_max, moved);
    (*s).max_value = select(old_max, x, moved);
  }
  let dist = select((*s).max_value - x, zero, x == (*s).max_value);
  if (NEED_SMOOTHING_SUM) {
    let grown = grown_distance_lanes(shift, (*s).smooth_mass + (*errors).smooth_mass);
    // Where the max moved to this class, its own distance is 0 and the sum grows instead.
    add_compensated_lanes(&(*s).smooth_dist, &(*errors).smooth_dist, select(w * dist, grown, moved));
    add_compensated_lanes(&(*s).smooth_mass, &(*errors).smooth_mass, vec4<f32>(w));
  }
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    let grown = grown_distance_lanes(shift, (*s).target_mass + (*errors).target_mass);
    add_compensated_lanes(&(*s).target_dist, &(*errors).target_dist, select(tw * dist, grown, moved));
    add_compensated_lanes(&(*s).target_mass, &(*errors).target_mass, tw);
  }
  // mark_zero_times_infinity of each lane.
  let minus_infinity = x == vec4<f32>(negative_infinity());
  let nan = vec4<f32>(quiet_nan());
  if (NEED_SMOOTHING_SUM) {
    (*s).smooth_dist = select((*s).smooth_dist, nan, minus_infinity & vec4<bool>(w == 0.0));
  }
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    (*s).target_dist = select((*s).target_dist, nan, minus_infinity & (tw == zero));
  }
}

// The states of rows `row` .. `row + 3` (row a multiple of 4), over all their classes.
fn scan_lanes(row: u32) -> LaneScan {
  let smooth_keep = 1.0 - params.label_smoothing;
  let smooth_spread = params.label_smoothing / f32(params.classes);
  let empty = empty_state();
  let zero = vec4<f32>(0.0);
  var s = LaneStates(vec4<f32>(empty.max_value), vec4<f32>(empty.excess_exp), zero, zero, zero, zero, zero);
  var errors = LaneErrors(zero, zero, zero, zero, zero);
  // Index arithmetic once per invocation: integer division is slow where SIMD lanes are emulated.
  let base = element_index(row, 0u) / 4u;
  let stride = params.inner / 4u;
  let class_targets = vec4<i32>(class_target_of(row), class_target_of(row + 1u), class_target_of(row + 2u),
                                class_target_of(row + 3u));
  // Each lane's x_y is taken as the walk passes class y (none where y is outside [0, C)): a
  // second read of logits4 afterwards would load a whole vec4 a lane, of which it keeps one value.
  let local_targets = class_targets - vec4<i32>(params.class_offset);  // local_class of each lane
  var at = base;
  for (var c = 0u; c < params.classes; c++) {
    let w = class_weight(c);
    var tw = zero;
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      tw = w * (target_probability4[at] * smooth_keep + smooth_spread);
    }
    let x = log_space4(input4_at(at));
    if (TARGET_KIND == TARGET_CLASS_INDEX) {
      s.target_logit = select(s.target_logit, x, local_targets == vec4<i32>(i32(c)));
    }
    absorb_lanes(&s, &errors, x, w, tw);
    at += stride;
  }
  return LaneScan(s, errors, class_targets);
}

// Lane k's state as scan_row would give it, its errors folded in.
fn lane_state(scan: LaneScan, k: u32) -> RowState {
  let s = scan.states;
  let e = scan.errors;
  var state = RowState(s.max_value[k], s.excess_exp[k], s.smooth_dist[k], s.smooth_mass[k], s.target_dist[k],
                       s.target_mass[k], s.target_logit[k], 0.0, 0.0);
  fold_sum_errors(&state, SumErrors(e.excess_exp[k], e.smooth_dist[k], e.smooth_mass[k], e.target_dist[k],
                                    e.target_mass[k]));
  return state;
}
