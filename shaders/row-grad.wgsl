// Gradient of the loss with respect to the input, from the row summaries row-loss wrote: no pass
// recomputes the max or the sum of exponentials. (The host prepends row-common.wgsl.)
//
// Algorithm: the row loss is -sum_c coef_c * log p_c (+ z * lse^2), so for logits
//   d/dx_c = k * (p_c * (sum_j coef_j + 2 z lse) - coef_c),  p_c = exp((x_c - max) - log_norm),
// with coef_c = (1 - eps) w_y [c = y] + (eps / C) w_c for class indices and w_c t'_c for
// probabilities; k = 1 / denominator ('mean'), 1 ('sum') or grad_output[row] ('none'). Softcap
// multiplies by its derivative 1 - tanh^2; log-probability inputs give -k coef_c, probabilities
// -k coef_c / p (0 where log p is clamped). Ignored rows get exactly 0.
// Dispatch: one invocation per (chunk, row) pair, as row-stats: a row's summary, target and scale
// are read once per invocation, then its chunk of classes is walked in memory order. 2-D folded.
//
// Bindings:
//   params             : (row-common) shapes and options of this call
//   logits             : the input (not read when in_place == 1: `grad` holds it then)
//   class_target       : class indices (read when TARGET_KIND == 0)
//   target_probability : class probabilities (read when TARGET_KIND == 1)
//   weight             : per-class weight [C] (read when HAS_WEIGHT)
//   row_summary        : each row's merged statistics, from row-loss
//   batch_weight       : [sum of denominator weights], the last batch-reduce level's ('mean')
//   grad_output        : upstream gradient per row (read when has_grad_output == 1)
//   grad               : out, d(loss)/d(input) in the input's layout; holds the input when in place
//   grad_params        : in_place (1: read x from `grad` and overwrite it)

struct GradParams {
  in_place: u32,
}

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> row_summary: array<RowSummary>;
@group(0) @binding(6) var<storage, read> batch_weight: array<f32>;
@group(0) @binding(7) var<storage, read> grad_output: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad: array<f32>;
@group(0) @binding(9) var<uniform> grad_params: GradParams;

override workgroup_size: u32 = 64u;

fn class_weight(c: u32) -> f32 {
  if (HAS_WEIGHT) {
    return weight[c];
  }
  return 1.0;
}

fn row_scale(row: u32) -> f32 {
  if (params.reduction == REDUCTION_MEAN) {
    return 1.0 / batch_weight[0];
  }
  if (params.reduction == REDUCTION_SUM || params.has_grad_output == 0u) {
    return 1.0;
  }
  return grad_output[row];
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let row = index % params.rows;
  let chunk = index / params.rows;
  let first = chunk * params.chunk_len;
  let end = min(first + params.chunk_len, params.classes);
  let stride = params.inner;
  let base = element_index(row, first);
  let summary = row_summary[row];
  let used = summary.kind == ROW_USED;
  let eps = params.label_smoothing;
  let spread = eps / f32(params.classes);
  let scale = select(0.0, row_scale(row), used);

  // coef_c = own_weight * [c == y] + spread_c; total = sum_j coef_j (see the header).
  var y = -1;
  var total = summary.target_mass;
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    y = local_class(class_target[row]);
    total = (1.0 - eps) * summary.target_weight;
    if (NEED_SMOOTHING_SUM) {
      total += spread * summary.smooth_mass;
    }
  }
  let own_weight = (1.0 - eps) * summary.target_weight;
  let lse = summary.max_value + summary.log_norm;
  let softmax_weight = total + 2.0 * params.z_loss * lse;

  var at = base;
  for (var c = first; c < end; c++) {
    var x: f32;
    if (grad_params.in_place == 1u) {
      x = grad[at];
    } else {
      x = logits[at];
    }
    var coef: f32;
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      coef = class_weight(c) * (target_probability[at] * (1.0 - eps) + spread);
    } else {
      coef = select(0.0, own_weight, i32(c) == y);
      if (NEED_SMOOTHING_SUM) {
        coef += spread * class_weight(c);
      }
    }
    var g: f32;
    if (INPUT_KIND == INPUT_LOGITS) {
      let p = exp((log_space(x) - summary.max_value) - summary.log_norm);
      g = p * softmax_weight - coef;
      if (HAS_SOFTCAP) {
        let t = capped_tanh(x / params.softcap);
        g *= 1.0 - t * t;
      }
    } else if (INPUT_KIND == INPUT_PROBABILITIES) {
      g = select(0.0, -coef / x, log(x) > LOG_PROBABILITY_FLOOR);
    } else {
      g = -coef;
    }
    // Ignored rows: exactly 0, whatever NaN or inf the row's values would give.
    grad[at] = select(0.0, scale * g, used);
    at += stride;
  }
}
