// Row loss: merges one row's chunk states into its log-sum-exp and computes the row's log-loss
// (PyTorch cross_entropy: weight, ignore_index, label_smoothing, class-index or probability target).
//
// Algorithm: chunk states are merged in chunk order (so reruns are bit-identical), giving
// lse = max + log(sum_exp); the loss is w_y * (lse - x_y), plus the smoothing or probability-target
// sums, all written as non-negative distances from the max. Each row also writes the weight it adds
// to the 'mean' denominator (w[y] for class indices, 0 when ignored, 1 for probability targets).
// Dispatch: one invocation per row, 2-D folded like row-stats.
//
// Bindings:
//   params       : shapes and options of this call (same layout as row-stats)
//   logits       : the input, read once per row for the target class
//   class_target : class indices [N, d1..dk] as i32 (read only when target_kind == 0)
//   weight       : per-class weight [C] (read only when has_weight == 1)
//   partials     : chunk states from row-stats, at chunk * rows + row
//   row_loss     : out, the loss of each row (0 for ignored rows; the index's bits for a bad target)
//   row_weight   : out, each row's contribution to the 'mean' denominator
//   status       : out, atomics: [count of out-of-range targets, first such row (u32 max if none)]

const INPUT_LOGITS: u32 = 0u;
const INPUT_PROBABILITIES: u32 = 1u;
const TARGET_CLASS_INDEX: u32 = 0u;
const LOG_PROBABILITY_FLOOR: f32 = -100.0;
const LARGEST_FINITE_F32_BITS: u32 = 0x7f7fffffu;
const QUIET_NAN_BITS: u32 = 0x7fc00000u;

struct Params {
  rows: u32,
  classes: u32,
  inner: u32,
  chunks: u32,
  chunk_len: u32,
  input_kind: u32,
  target_kind: u32,
  has_weight: u32,
  ignore_index: i32,
  label_smoothing: f32,
  need_smoothing_sum: u32,
}

struct RowState {
  max_value: f32,
  sum_exp: f32,
  smooth_dist: f32,
  smooth_mass: f32,
  target_dist: f32,
  target_mass: f32,
}

struct Status {
  bad_target_count: atomic<u32>,
  first_bad_row: atomic<u32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> partials: array<RowState>;
@group(0) @binding(5) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(6) var<storage, read_write> row_weight: array<f32>;
@group(0) @binding(7) var<storage, read_write> status: Status;

override workgroup_size: u32 = 64u;

fn is_finite(x: f32) -> bool {
  return abs(x) <= bitcast<f32>(LARGEST_FINITE_F32_BITS);
}

// A NaN made at run time: a constant expression may not evaluate to NaN in WGSL.
fn quiet_nan() -> f32 {
  let bits = QUIET_NAN_BITS;
  return bitcast<f32>(bits);
}

// Merges state `b` into `a`, re-measuring both from the larger max (exact log-sum-exp of the two).
fn merge(a: RowState, b: RowState) -> RowState {
  if (params.input_kind != INPUT_LOGITS) {
    return RowState(0.0, 1.0, a.smooth_dist + b.smooth_dist, a.smooth_mass + b.smooth_mass,
                    a.target_dist + b.target_dist, a.target_mass + b.target_mass);
  }
  let m = max(a.max_value, b.max_value);
  // A state whose max equals the merged max needs no shift (this also keeps -inf runs NaN-free).
  let shift_a = select(m - a.max_value, 0.0, a.max_value == m);
  let shift_b = select(m - b.max_value, 0.0, b.max_value == m);
  return RowState(
    m,
    a.sum_exp * exp(-shift_a) + b.sum_exp * exp(-shift_b),
    a.smooth_dist + shift_a * a.smooth_mass + b.smooth_dist + shift_b * b.smooth_mass,
    a.smooth_mass + b.smooth_mass,
    a.target_dist + shift_a * a.target_mass + b.target_dist + shift_b * b.target_mass,
    a.target_mass + b.target_mass);
}

fn log_space(x: f32) -> f32 {
  if (params.input_kind == INPUT_PROBABILITIES) {
    return max(log(x), LOG_PROBABILITY_FLOOR);
  }
  return x;
}

fn class_weight(c: u32) -> f32 {
  if (params.has_weight == 1u) {
    return weight[c];
  }
  return 1.0;
}

fn write_row(row: u32, loss: f32, denominator_weight: f32) {
  row_loss[row] = loss;
  row_weight[row] = denominator_weight;
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let row = (group.y * groups.x + group.x) * workgroup_size + lane;
  if (row >= params.rows) {
    return;
  }
  var state = partials[row];
  for (var chunk = 1u; chunk < params.chunks; chunk++) {
    state = merge(state, partials[chunk * params.rows + row]);
  }
  // log(sum exp(x - max)): the row's log-sum-exp minus its max; 0 when the input is already log p.
  var log_norm = 0.0;
  if (params.input_kind == INPUT_LOGITS) {
    log_norm = log(state.sum_exp);
    if (!is_finite(state.max_value)) {
      // PyTorch: lse = +inf makes log p NaN wherever x = +inf; a row of only -inf has lse = -inf
      // and log p NaN everywhere. Either way every sum over the row's log p is NaN.
      state.smooth_dist = quiet_nan();
      state.target_dist = quiet_nan();
    }
  }

  if (params.target_kind != TARGET_CLASS_INDEX) {
    write_row(row, state.target_dist + log_norm * state.target_mass, 1.0);
    return;
  }

  let y = class_target[row];
  if (y == params.ignore_index) {
    write_row(row, 0.0, 0.0);
    return;
  }
  if (y < 0 || u32(y) >= params.classes) {
    atomicAdd(&status.bad_target_count, 1u);
    atomicMin(&status.first_bad_row, row);
    // The host rejects the whole result; it reads the offending index back from this slot.
    write_row(row, bitcast<f32>(y), 0.0);
    return;
  }
  let n = row / params.inner;
  let s = row % params.inner;
  let x_y = log_space(logits[(n * params.classes + u32(y)) * params.inner + s]);
  let w_y = class_weight(u32(y));
  // -log p_y = lse - x_y = (max - x_y) + log_norm, both terms non-negative for logits.
  let nll = w_y * ((state.max_value - x_y) + log_norm);
  var loss = nll;
  if (params.need_smoothing_sum == 1u) {
    let smoothing_sum = state.smooth_dist + log_norm * state.smooth_mass;
    loss = (1.0 - params.label_smoothing) * nll
         + (params.label_smoothing / f32(params.classes)) * smoothing_sum;
  }
  write_row(row, loss, w_y);
}
