// The gradient of a row's loss with respect to its input, from the row's summary: the formulas and
// the walks over a row's classes, shared by row-grad (which reads the summaries row-loss wrote) and
// row-loss-grad (which has them in registers, having just scanned the row).
//
// Needs from its includer: lib/row-common.wgsl, lib/precise-math.wgsl and lib/class-weight.wgsl,
// joined before it, and the input: an input library (lib/input-float32.wgsl or lib/input-half.wgsl),
// `class_target` and `target_probability` (declared by lib/row-scan.wgsl and lib/row-scan-lanes.wgsl,
// or by row-grad.wgsl itself). It defines `input_at` and `input4_at` for them, which read `grad`
// when the gradient overwrites the input.
//
// Algorithm: the row loss is -sum_c coef_c * log p_c (+ z * lse^2), so for logits
//   d/dx_c = k * (p_c * S - coef_c),  S = sum_j coef_j + 2 z lse,  p_c = exp((x_c - max) - log_norm),
// with coef_c = (1 - eps) w_y [c = y] + (eps / C) w_c for class indices and w_c t'_c for
// probabilities; k = 1 / denominator ('mean'), 1 ('sum') or grad_output[row] ('none'). Softcap
// multiplies by its derivative 1 - tanh^2; log-probability inputs give -k coef_c, probabilities
// -k coef_c / p (0 where log p is clamped). Ignored rows get exactly 0.
// For logits with class-index targets (the common case) every class but y takes the short form
// k (p_c S - (eps / C) w_c), and the class y is rewritten afterwards by whoever walked it; the
// other problem kinds take the general form, class_gradient, for every class.
//
// Bindings (of the kernels this file is part of):
//   grad        : out, d(loss)/d(input) in the input's layout; holds the input when in place
//   scale_input : 'mean': [sum of denominator weights], a batch-reduce level's; 'none' with an
//                 upstream gradient: that gradient, one per row (read when has_grad_output == 1)

// The gradient overwrites the input: x is read from `grad`, and `logits` is not bound. An override,
// not a uniform: where SIMD lanes are emulated (SwiftShader) both sides of a branch run, and a
// uniform flag would read two inputs for every class.
override GRAD_IN_PLACE: bool = false;

@group(0) @binding(10) var<storage, read_write> grad: array<f32>;
@group(0) @binding(10) var<storage, read_write> grad4: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read> scale_input: array<f32>;

// What one row's gradient needs, read and computed once per invocation.
struct RowGradient {
  used: bool,           // false for an ignored row, or one whose target is elsewhere
  scale: f32,           // k
  y: i32,               // the target class, relative to this shard (class indices)
  own_weight: f32,      // (1 - eps) w_y
  spread: f32,          // eps / C
  softmax_weight: f32,  // S = sum_j coef_j + 2 z lse
  max_value: f32,
  log_norm: f32,
  excess_exp: f32,      // sum_exp - 1: for a row whose max is unique and dominant, 1 - p_max
                        // = excess / (1 + excess)
  mass: f32,            // sum_j w_j (class indices, smoothing) or sum_j w_j t'_j (probabilities)
  mass_error: f32,      // its rounding error
  z_term: f32,          // 2 z lse
}

// p S and coef closer than this factor: their difference is recomputed with precise_exp.
const CANCELLATION_FACTOR: f32 = 16.0;

// A class's gradient before k, p S - coef with p = exp(log_p), for a class of weight w that is the
// row's max or not (at_max) and its target or not. Where the two terms nearly cancel, the
// difference is computed again: for the row's dominant class (its unique max, p > 1/2) as
// (S - coef) - q S with q = 1 - p, both known to a few ulp however close p is to 1; for any
// other class with p from precise_exp.
fn softmax_minus(r: RowGradient, log_p: f32, at_max: bool, coef: f32, w: f32, is_target: bool) -> f32 {
  let ps = exp(log_p) * r.softmax_weight;
  if (abs(ps - coef) * CANCELLATION_FACTOR < abs(ps)) {
    if (at_max && r.excess_exp < 1.0) {
      let q = r.excess_exp / (1.0 + r.excess_exp);
      return other_classes_share(r, coef, w, is_target) - q * r.softmax_weight;
    }
    return precise_exp(log_p) * r.softmax_weight - coef;
  }
  return ps - coef;
}

// S - coef: the other classes' coefficients and the z-loss term, from the row's mass and its
// rounding error (the mass minus a weight that holds nearly all of it keeps its digits).
fn other_classes_share(r: RowGradient, coef: f32, w: f32, is_target: bool) -> f32 {
  var share: f32;
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    share = (r.mass - coef) + r.mass_error;
  } else {
    share = select(r.own_weight, 0.0, is_target);
    if (NEED_SMOOTHING_SUM) {
      share += r.spread * ((r.mass - w) + r.mass_error);
    }
  }
  return share + r.z_term;
}

// The slope of softcap * tanh(x / softcap): 1 - tanh^2(u) = sech^2(u) = 4 e / (1 + e)^2 with
// e = exp(-2 |u|). Written so, not as 1 - tanh^2: near |tanh| = 1 that difference keeps only a few
// bits in f32 (at u = 7.6 the slope is 1e-6 and 1 - tanh^2 was 6% off).
fn softcap_slope(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x / params.softcap));
  return 4.0 * e / ((1.0 + e) * (1.0 + e));
}

fn row_scale(row: u32) -> f32 {
  if (params.reduction == REDUCTION_MEAN) {
    // A denominator of 0 (every used row of weight 0) leaves the slope undefined: NaN, as the
    // reference (1 / 0 = inf would turn into inf or NaN depending on a flushed subnormal p).
    let denominator = scale_input[0];
    return select(1.0 / denominator, quiet_nan(), denominator == 0.0);
  }
  if (params.reduction == REDUCTION_SUM || params.has_grad_output == 0u) {
    return 1.0;
  }
  return scale_input[row];
}

// What the gradient of `row` needs, from its summary and its class index as given (`y_global`,
// read when TARGET_KIND == 0).
fn row_gradient_of(summary: RowSummary, y_global: i32, row: u32) -> RowGradient {
  let eps = params.label_smoothing;
  let used = summary.kind == ROW_USED;
  var r = RowGradient(used, 0.0, -1, (1.0 - eps) * summary.target_weight, eps / f32(params.classes), 0.0,
                      summary.max_value, summary.log_norm, summary.excess_exp, summary.target_mass,
                      summary.mass_error, 0.0);
  if (used) {
    r.scale = row_scale(row);
  }
  var total = summary.target_mass;
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    r.y = local_class(y_global);
    r.mass = summary.smooth_mass;
    total = r.own_weight;
    if (NEED_SMOOTHING_SUM) {
      total += r.spread * summary.smooth_mass;
    }
  }
  // Without z-loss its term is 0, also where lse is infinite (0 * inf would be NaN).
  r.z_term = select(0.0, 2.0 * params.z_loss * (summary.max_value + summary.log_norm), params.z_loss != 0.0);
  r.softmax_weight = total + r.z_term;
  return r;
}

// The gradient of class c with input value x, weight w and target probability t (see the header).
fn class_gradient(r: RowGradient, c: u32, x: f32, w: f32, t: f32) -> f32 {
  var coef: f32;
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    coef = w * (t * (1.0 - params.label_smoothing) + r.spread);
  } else {
    coef = select(0.0, r.own_weight, i32(c) == r.y);
    if (NEED_SMOOTHING_SUM) {
      coef += r.spread * w;
    }
  }
  var g: f32;
  if (INPUT_KIND == INPUT_LOGITS) {
    let z = log_space(x);
    let log_p = (z - r.max_value) - r.log_norm;
    // A NaN log p (a NaN logit, +inf minus a row max of +inf, a row of only -inf) has a NaN
    // gradient, as in the reference: a GPU's exp(NaN) need not be NaN (SwiftShader's is +inf).
    let undefined_slope = is_nan(x) || is_nan(log_p);
    let is_target = TARGET_KIND == TARGET_CLASS_INDEX && i32(c) == r.y;
    g = select(softmax_minus(r, log_p, z == r.max_value, coef, w, is_target), quiet_nan(), undefined_slope);
    if (HAS_SOFTCAP) {
      g *= softcap_slope(x);
    }
  } else if (INPUT_KIND == INPUT_PROBABILITIES) {
    g = select(0.0, -coef / x, floored_log(x) > LOG_PROBABILITY_FLOOR);
  } else {
    g = -coef;
  }
  // Rows that are not used get exactly 0, whatever NaN or inf their values would give.
  return select(0.0, r.scale * g, r.used);
}

// For logits and class-index targets the gradient of every class but y is k (p_c S - spread w_c):
// no per-class test of c == y. The chunk holding y rewrites that one class with class_gradient
// afterwards. The fast path keeps class_gradient's rules for every row: NaN where log p is NaN (a
// NaN logit, +inf minus a max of +inf, a row of only -inf), exactly 0 on rows that are not used.
// A pipeline compiles one path or the other (an override, not a per-row test), so each kernel
// carries only the loop it runs. k multiplies last, as there and in the reference.
override FAST_CLASS_INDEX_PATH: bool = INPUT_KIND == INPUT_LOGITS && TARGET_KIND == TARGET_CLASS_INDEX;

fn softmax_gradient(r: RowGradient, x: f32, w: f32) -> f32 {
  let z = log_space(x);
  let log_p = (z - r.max_value) - r.log_norm;
  var g: f32;
  if (NEED_SMOOTHING_SUM) {
    g = softmax_minus(r, log_p, z == r.max_value, r.spread * w, w, false);
  } else {
    g = exp(log_p) * r.softmax_weight;
  }
  // A GPU's exp(NaN) need not be NaN (SwiftShader's is +inf).
  g = select(g, quiet_nan(), is_nan(log_p));
  if (HAS_SOFTCAP) {
    g *= softcap_slope(x);
  }
  return select(0.0, r.scale * g, r.used);
}

// The fast path's step over four values, lane k a class of row (*rows)[k]: four classes of one row
// (row-grad's main_vec4), or one class of four neighbouring rows (row-loss-grad's main_lanes).
// `lanes` holds what the step reads of the four rows, as vectors; a lane whose row is not used
// gets exactly 0.
struct LaneGradients {
  max_value: vec4<f32>,
  log_norm: vec4<f32>,
  softmax_weight: vec4<f32>,
  scale: vec4<f32>,
  used: vec4<bool>,
}

fn lane_gradients(rows: ptr<function, array<RowGradient, 4>>) -> LaneGradients {
  let r = *rows;
  return LaneGradients(vec4<f32>(r[0].max_value, r[1].max_value, r[2].max_value, r[3].max_value),
                       vec4<f32>(r[0].log_norm, r[1].log_norm, r[2].log_norm, r[3].log_norm),
                       vec4<f32>(r[0].softmax_weight, r[1].softmax_weight, r[2].softmax_weight, r[3].softmax_weight),
                       vec4<f32>(r[0].scale, r[1].scale, r[2].scale, r[3].scale),
                       vec4<bool>(r[0].used, r[1].used, r[2].used, r[3].used));
}

// softmax_minus of four classes that are not their rows' targets (lane k of row k), with
// coefficients `coef` and weights `w`, given ps = p S: the same rules, as vector operations. Where
// SIMD lanes are emulated (SwiftShader) a branch runs whether or not a lane takes it, and the four
// scalar calls (each with its own precise_exp and branches) cost several times the vector form.
// The rows' statistics are gathered here, not kept in LaneGradients, so that the kernels without
// label smoothing carry no more registers through their loops.
fn softmax_minus4(rows: ptr<function, array<RowGradient, 4>>, lanes: LaneGradients, ps: vec4<f32>,
                  log_p: vec4<f32>, at_max: vec4<bool>, coef: vec4<f32>, w: vec4<f32>) -> vec4<f32> {
  let cancels = abs(ps - coef) * CANCELLATION_FACTOR < abs(ps);
  if (!any(cancels)) {
    return ps - coef;
  }
  let r = *rows;
  let excess = vec4<f32>(r[0].excess_exp, r[1].excess_exp, r[2].excess_exp, r[3].excess_exp);
  let own_weight = vec4<f32>(r[0].own_weight, r[1].own_weight, r[2].own_weight, r[3].own_weight);
  let mass = vec4<f32>(r[0].mass, r[1].mass, r[2].mass, r[3].mass);
  let mass_error = vec4<f32>(r[0].mass_error, r[1].mass_error, r[2].mass_error, r[3].mass_error);
  let z_term = vec4<f32>(r[0].z_term, r[1].z_term, r[2].z_term, r[3].z_term);
  // The dominant class: (S - coef) - q S with q = 1 - p (other_classes_share, class indices).
  let dominant = at_max & (excess < vec4<f32>(1.0));
  let q = excess / (1.0 + excess);
  let share = (own_weight + r[0].spread * ((mass - w) + mass_error)) + z_term;
  let redone = select(precise_exp4(log_p) * lanes.softmax_weight - coef, share - q * lanes.softmax_weight, dominant);
  return select(ps - coef, redone, cancels);
}

fn softmax_gradient4(rows: ptr<function, array<RowGradient, 4>>, lanes: LaneGradients, x: vec4<f32>,
                     w: vec4<f32>) -> vec4<f32> {
  var z = x;
  if (HAS_SOFTCAP) {
    z = vec4<f32>(log_space(x.x), log_space(x.y), log_space(x.z), log_space(x.w));
  }
  let log_p = (z - lanes.max_value) - lanes.log_norm;
  var g = exp(log_p) * lanes.softmax_weight;
  if (NEED_SMOOTHING_SUM) {
    let coef = (*rows)[0].spread * w;  // eps / C: the same for every row
    g = softmax_minus4(rows, lanes, g, log_p, z == lanes.max_value, coef, w);
  }
  g = select(g, vec4<f32>(quiet_nan()), is_nan4(log_p));
  if (HAS_SOFTCAP) {
    g *= vec4<f32>(softcap_slope(x.x), softcap_slope(x.y), softcap_slope(x.z), softcap_slope(x.w));
  }
  return select(vec4<f32>(0.0), lanes.scale * g, lanes.used);
}

// The input, read where the gradient goes when it is written in place (and through which
// row-loss-grad's scans read it too).
fn input_at(at: u32) -> f32 {
  if (GRAD_IN_PLACE) {
    return grad[at];
  }
  return stored_input(at);
}

fn input4_at(at: u32) -> vec4<f32> {
  if (GRAD_IN_PLACE) {
    return grad4[at];
  }
  return stored_input4(at);
}

// The target class y of a used row, when it lies in classes [first, end): its input value is read
// before the chunk is written (in place, the chunk's writes overwrite it), and its full gradient
// is written after.
struct TargetClass {
  inside: bool,
  at: u32,
  x: f32,
}

fn find_target_class(r: RowGradient, row: u32, first: u32, end: u32) -> TargetClass {
  var found = TargetClass(false, 0u, 0.0);
  if (r.used && r.y >= i32(first) && r.y < i32(end)) {
    found.inside = true;
    found.at = element_index(row, u32(r.y));
    found.x = input_at(found.at);
  }
  return found;
}

fn rewrite_target_class(r: RowGradient, found: TargetClass) {
  if (found.inside) {
    let c = u32(r.y);
    grad[found.at] = class_gradient(r, c, found.x, class_weight(c), 0.0);
  }
}

// Classes [first, end) of row `row` (of gradient `r`), one at a time in memory order: row-grad's
// chunk of a row, or row-loss-grad's whole row.
fn write_row_gradient(r: RowGradient, row: u32, first: u32, end: u32) {
  var at = element_index(row, first);
  if (FAST_CLASS_INDEX_PATH) {
    let target_class = find_target_class(r, row, first, end);
    for (var c = first; c < end; c++) {
      grad[at] = softmax_gradient(r, input_at(at), class_weight(c));
      at += params.inner;
    }
    rewrite_target_class(r, target_class);
    return;
  }
  for (var c = first; c < end; c++) {
    var t = 0.0;
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      t = target_probability[at];
    }
    grad[at] = class_gradient(r, c, input_at(at), class_weight(c), t);
    at += params.inner;
  }
}

// A target class read through the vec4 views (an entry point may not use both views of one
// binding): its vec4, its lane and its input value, read before any write.
struct OwnedTarget {
  inside: bool,
  q: u32,
  lane: u32,
  x: f32,
}

// Writes the target class's gradient (its weight `w`: the entry point reads it through the view
// of `weight` it binds) into its lane.
fn rewrite_owned_target(r: RowGradient, found: OwnedTarget, w: f32) {
  if (found.inside) {
    var g = grad4[found.q];
    g[found.lane] = class_gradient(r, u32(r.y), found.x, w, 0.0);
    grad4[found.q] = g;
  }
}
