// Gradient of the loss with respect to the input, from the row summaries row-loss wrote: no pass
// recomputes the max or the sum of exponentials. (The host prepends row-common.wgsl and
// precise-math.wgsl.)
//
// Algorithm: the row loss is -sum_c coef_c * log p_c (+ z * lse^2), so for logits
//   d/dx_c = k * (p_c * S - coef_c),  S = sum_j coef_j + 2 z lse,  p_c = exp((x_c - max) - log_norm),
// with coef_c = (1 - eps) w_y [c = y] + (eps / C) w_c for class indices and w_c t'_c for
// probabilities; k = 1 / denominator ('mean'), 1 ('sum') or grad_output[row] ('none'). Softcap
// multiplies by its derivative 1 - tanh^2; log-probability inputs give -k coef_c, probabilities
// -k coef_c / p (0 where log p is clamped). Ignored rows get exactly 0.
// Dispatch: one invocation per (chunk, row) pair, as row-stats: a row's summary, target and scale
// are read once per invocation, then its chunk of classes is walked in memory order (main_lanes:
// one invocation per four rows). 2-D folded.
// For logits with class-index targets (the common case) every class but y takes the short form
// k (p_c S - (eps / C) w_c), and the one invocation whose chunk holds y rewrites that class; the
// other problem kinds take the general form, class_gradient, for every class.
// Entry points: `main` for any layout; `main_vec4` for contiguous rows whose length is a multiple
// of 4, which reads and writes four classes at a time through vec4 views of the same bindings;
// `main_lanes` for four neighbouring rows of a K-dimensional layout at once, and `main_unaligned`
// for contiguous rows of other lengths through the vec4 views (see their comments).
//
// Bindings:
//   params             : (row-common) shapes and options of this call
//   logits             : the input (not read when GRAD_IN_PLACE: `grad` holds it then)
//   class_target       : class indices (read when TARGET_KIND == 0)
//   target_probability : class probabilities (read when TARGET_KIND == 1)
//   weight             : per-class weight [C] (read when HAS_WEIGHT)
//   row_summary        : each row's merged statistics, from row-loss
//   batch_weight       : [sum of denominator weights], the last batch-reduce level's ('mean')
//   grad_output        : upstream gradient per row (read when has_grad_output == 1)
//   grad               : out, d(loss)/d(input) in the input's layout; holds the input when in place

// The gradient overwrites the input: x is read from `grad`, and `logits` is not bound. An override,
// not a uniform: where SIMD lanes are emulated (SwiftShader) both sides of a branch run, and a
// uniform flag read two inputs for every class (forward + gradient took 1.2-1.4x as long).
override GRAD_IN_PLACE: bool = false;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> row_summary: array<RowSummary>;
@group(0) @binding(6) var<storage, read> batch_weight: array<f32>;
@group(0) @binding(7) var<storage, read> grad_output: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad: array<f32>;
// The same bindings seen as vec4s, for main_vec4 only.
@group(0) @binding(1) var<storage, read> logits4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> target_probability4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> weight4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> grad4: array<vec4<f32>>;

override workgroup_size: u32 = 64u;

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

fn class_weight(c: u32) -> f32 {
  if (HAS_WEIGHT) {
    return weight[c];
  }
  return 1.0;
}

fn row_scale(row: u32) -> f32 {
  if (params.reduction == REDUCTION_MEAN) {
    // A denominator of 0 (every used row of weight 0) leaves the slope undefined: NaN, as the
    // reference (1 / 0 = inf would turn into inf or NaN depending on a flushed subnormal p).
    let denominator = batch_weight[0];
    return select(1.0 / denominator, quiet_nan(), denominator == 0.0);
  }
  if (params.reduction == REDUCTION_SUM || params.has_grad_output == 0u) {
    return 1.0;
  }
  return grad_output[row];
}

fn row_gradient(row: u32) -> RowGradient {
  let summary = row_summary[row];
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
    r.y = local_class(class_target[row]);
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

// is_nan (row-common.wgsl) of each component.
fn is_nan4(x: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(x) & vec4<u32>(~SIGN_BIT)) > vec4<u32>(INFINITY_BITS);
}

// The fast path's step over four values, lane k a class of row (*rows)[k]: four classes of one row
// (main_vec4), or one class of four neighbouring rows (main_lanes). `lanes` holds what the step
// reads of the four rows, as vectors; a lane whose row is not used gets exactly 0.
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

fn input_at(at: u32) -> f32 {
  if (GRAD_IN_PLACE) {
    return grad[at];
  }
  return logits[at];
}

fn input4_at(at: u32) -> vec4<f32> {
  if (GRAD_IN_PLACE) {
    return grad4[at];
  }
  return logits4[at];
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

// The same through the vec4 views (an entry point may not use both views of one binding): the
// target class of a used row `r` starting at flat element `row_start`, when its vec4 is one of
// [first_vec4, end_vec4): its vec4, lane and input value, read before any write.
struct OwnedTarget {
  inside: bool,
  q: u32,
  lane: u32,
  x: f32,
}

fn find_owned_target(r: RowGradient, row_start: u32, first_vec4: u32, end_vec4: u32) -> OwnedTarget {
  var found = OwnedTarget(false, 0u, 0u, 0.0);
  let element = row_start + u32(max(r.y, 0));
  if (FAST_CLASS_INDEX_PATH && r.used && element / 4u >= first_vec4 && element / 4u < end_vec4) {
    found = OwnedTarget(true, element / 4u, element % 4u, input4_at(element / 4u)[element % 4u]);
  }
  return found;
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

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let range = chunk_of_row(index, 1u);
  let r = row_gradient(range.row);
  var at = element_index(range.row, range.first);
  if (FAST_CLASS_INDEX_PATH) {
    let target_class = find_target_class(r, range.row, range.first, range.end);
    for (var c = range.first; c < range.end; c++) {
      grad[at] = softmax_gradient(r, input_at(at), class_weight(c));
      at += params.inner;
    }
    rewrite_target_class(r, target_class);
    return;
  }
  for (var c = range.first; c < range.end; c++) {
    var t = 0.0;
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      t = target_probability[at];
    }
    grad[at] = class_gradient(r, c, input_at(at), class_weight(c), t);
    at += params.inner;
  }
}

@compute @workgroup_size(workgroup_size)
fn main_vec4(@builtin(workgroup_id) group: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let range = chunk_of_row(index, 4u);
  let row_base = range.row * (params.classes / 4u);
  let r = row_gradient(range.row);
  if (FAST_CLASS_INDEX_PATH) {
    let target_class = find_owned_target(r, 4u * row_base, row_base + range.first, row_base + range.end);
    var rows = array<RowGradient, 4>(r, r, r, r);
    let lanes = lane_gradients(&rows);
    for (var q = range.first; q < range.end; q++) {
      var w = vec4<f32>(1.0);
      if (HAS_WEIGHT) {
        w = weight4[q];
      }
      grad4[row_base + q] = softmax_gradient4(&rows, lanes, input4_at(row_base + q), w);
    }
    var w = 1.0;
    if (HAS_WEIGHT) {
      let c = u32(max(r.y, 0));
      w = weight4[c / 4u][c % 4u];
    }
    rewrite_owned_target(r, target_class, w);
    return;
  }
  for (var q = range.first; q < range.end; q++) {
    let at = row_base + q;
    let x = input4_at(at);
    var w = vec4<f32>(1.0);
    if (HAS_WEIGHT) {
      w = weight4[q];
    }
    var t = vec4<f32>(0.0);
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      t = target_probability4[at];
    }
    let c = q * 4u;
    grad4[at] = vec4<f32>(class_gradient(r, c, x.x, w.x, t.x), class_gradient(r, c + 1u, x.y, w.y, t.y),
                          class_gradient(r, c + 2u, x.z, w.z, t.z), class_gradient(r, c + 3u, x.w, w.w, t.w));
  }
}

// The target of row `r`, lane `k` of the rows starting at vec4 `base`: the vec4 of its class.
fn lane_target(r: RowGradient, base: u32, stride: u32, k: u32) -> OwnedTarget {
  let q = base + u32(select(0, r.y, r.used)) * stride;
  return OwnedTarget(r.used, q, k, input4_at(q)[k]);
}

// Four neighbouring rows of a K-dimensional layout (rows one chunk long, inner a multiple of 4),
// a vec4 lane each, as row-loss's main_lanes: each class of the four is one vec4 load and store.
@compute @workgroup_size(workgroup_size)
fn main_lanes(@builtin(workgroup_id) group: vec3<u32>,
              @builtin(num_workgroups) groups: vec3<u32>,
              @builtin(local_invocation_index) lane: u32) {
  let row = 4u * invocation_index(group, groups, lane, workgroup_size);
  if (row >= params.rows) {
    return;
  }
  let base = element_index(row, 0u) / 4u;
  let stride = params.inner / 4u;
  var rows = array<RowGradient, 4>(row_gradient(row), row_gradient(row + 1u), row_gradient(row + 2u),
                                   row_gradient(row + 3u));
  if (FAST_CLASS_INDEX_PATH) {
    let lanes = lane_gradients(&rows);
    // Each used row's target: lane k of the vec4 of its class, x_y read before the loop overwrites
    // it in place. Written out lane by lane: a dynamic index into a private array costs SwiftShader
    // a gather of every field.
    let targets = array<OwnedTarget, 4>(lane_target(rows[0], base, stride, 0u), lane_target(rows[1], base, stride, 1u),
                                        lane_target(rows[2], base, stride, 2u), lane_target(rows[3], base, stride, 3u));
    var at = base;
    for (var c = 0u; c < params.classes; c++) {
      grad4[at] = softmax_gradient4(&rows, lanes, input4_at(at), vec4<f32>(class_weight(c)));
      at += stride;
    }
    rewrite_owned_target(rows[0], targets[0], class_weight(u32(max(rows[0].y, 0))));
    rewrite_owned_target(rows[1], targets[1], class_weight(u32(max(rows[1].y, 0))));
    rewrite_owned_target(rows[2], targets[2], class_weight(u32(max(rows[2].y, 0))));
    rewrite_owned_target(rows[3], targets[3], class_weight(u32(max(rows[3].y, 0))));
    return;
  }
  var at = base;
  for (var c = 0u; c < params.classes; c++) {
    let x = input4_at(at);
    let w = class_weight(c);
    var t = vec4<f32>(0.0);
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      t = target_probability4[at];
    }
    grad4[at] = vec4<f32>(class_gradient(rows[0], c, x.x, w, t.x), class_gradient(rows[1], c, x.y, w, t.y),
                          class_gradient(rows[2], c, x.z, w, t.z), class_gradient(rows[3], c, x.w, w, t.w));
    at += stride;
  }
}

// Contiguous rows whose length is not a multiple of 4 (at least 64), through the vec4 views all the
// same. A vec4 belongs to the invocation whose classes hold its first element: it walks the vec4s
// from its first whole one to the one holding its last class, which may run into the next chunk of
// its row (the same row's statistics) or into the next row (that row's, lane by lane). Each vec4 is
// read and written by one invocation only, and each target class rewritten by the invocation that
// owns its vec4. The binding ends on a vec4 (rows * C a multiple of 4, as the host ensures). On
// SwiftShader forward + gradient over [4096, 1001] and [256, 32001] took 0.7-0.9x the time of the
// scalar kernel (Node A/B).

// The weights of four classes (one per lane).
fn class_weights4(classes: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(class_weight(classes.x), class_weight(classes.y), class_weight(classes.z),
                   class_weight(classes.w));
}

// One vec4's gradient: lane k is class classes[k] of row (*rows)[k].
fn owned_gradient4(rows: ptr<function, array<RowGradient, 4>>, lanes: LaneGradients, classes: vec4<u32>,
                   q: u32) -> vec4<f32> {
  let x = input4_at(q);
  let w = class_weights4(classes);
  if (FAST_CLASS_INDEX_PATH) {
    return softmax_gradient4(rows, lanes, x, w);
  }
  var t = vec4<f32>(0.0);
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    t = target_probability4[q];
  }
  return vec4<f32>(class_gradient((*rows)[0], classes.x, x.x, w.x, t.x),
                   class_gradient((*rows)[1], classes.y, x.y, w.y, t.y),
                   class_gradient((*rows)[2], classes.z, x.z, w.z, t.z),
                   class_gradient((*rows)[3], classes.w, x.w, w.w, t.w));
}

@compute @workgroup_size(workgroup_size)
fn main_unaligned(@builtin(workgroup_id) group: vec3<u32>,
                  @builtin(num_workgroups) groups: vec3<u32>,
                  @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let range = chunk_of_row(index, 1u);
  let row_start = range.row * params.classes;
  let next_start = row_start + params.classes;
  let first_vec4 = (row_start + range.first + 3u) / 4u;
  let end_vec4 = (row_start + range.end + 3u) / 4u;
  let r = row_gradient(range.row);
  // The next row's statistics serve the lanes of the last vec4 past this row's end.
  let next = row_gradient(min(range.row + 1u, params.rows - 1u));
  let own_target = find_owned_target(r, row_start, first_vec4, end_vec4);
  let next_target = find_owned_target(next, next_start, end_vec4 - 1u, select(end_vec4 - 1u, end_vec4,
                                      range.end == params.classes && range.row + 1u < params.rows));
  var rows = array<RowGradient, 4>(r, r, r, r);
  let lanes = lane_gradients(&rows);
  let lane_offsets = vec4<u32>(0u, 1u, 2u, 3u);
  for (var q = first_vec4; q + 1u < end_vec4; q++) {
    grad4[q] = owned_gradient4(&rows, lanes, 4u * q + lane_offsets - row_start, q);
  }
  // The last vec4, whose lanes past the row's end (if any) belong to the next row.
  let q = end_vec4 - 1u;
  let element = 4u * q + lane_offsets;
  let in_next = element >= vec4<u32>(next_start);
  var mixed: array<RowGradient, 4>;
  for (var k = 0u; k < 4u; k++) {
    mixed[k] = r;
    if (in_next[k]) {
      mixed[k] = next;
    }
  }
  grad4[q] = owned_gradient4(&mixed, lane_gradients(&mixed), element - select(vec4<u32>(row_start),
                             vec4<u32>(next_start), in_next), q);
  rewrite_owned_target(r, own_target, class_weight(u32(max(r.y, 0))));
  rewrite_owned_target(next, next_target, class_weight(u32(max(next.y, 0))));
}
