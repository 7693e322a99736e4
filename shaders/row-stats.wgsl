// Row statistics: one pass over a chunk of one row's classes, keeping an online softmax state.
//
// Algorithm: each invocation walks `chunk_len` consecutive classes of one row, in class order, and
// keeps the running max m, the sum of exp(x - m), and weighted sums of the distance (m - x) that the
// log-loss needs (label smoothing, probability targets). When m grows, every sum is rescaled to the
// new max, so all terms stay non-negative and no precision is lost to cancellation.
// Dispatch: one invocation per (chunk, row) pair, rows fastest (so neighbouring invocations read
// neighbouring memory when classes are strided, as in [N, C, d1..dk]); workgroups may be folded
// into a 2-D grid when there are more than maxComputeWorkgroupsPerDimension of them.
//
// Bindings:
//   params   : shapes and options of this call (see Params)
//   logits   : the input, row-major [N, C, d1..dk]; element (n, c, s) at (n * C + c) * inner + s
//   target_probability : class probabilities with the logits' layout (read only when target_kind == 1)
//   weight   : per-class weight [C] (read only when has_weight == 1)
//   partials : out, one RowState per (chunk, row), at chunk * rows + row

const INPUT_LOGITS: u32 = 0u;
const INPUT_PROBABILITIES: u32 = 1u;
const TARGET_PROBABILITIES: u32 = 1u;
// PyTorch's BCELoss rule: log p is clamped below at -100 so that p = 0 gives a finite loss.
const LOG_PROBABILITY_FLOOR: f32 = -100.0;

struct Params {
  rows: u32,              // N * d1 * ... * dk
  classes: u32,           // C
  inner: u32,             // d1 * ... * dk: the stride between two classes of one row
  chunks: u32,            // chunks per row
  chunk_len: u32,         // classes per chunk (the last chunk may be shorter)
  input_kind: u32,        // 0 logits, 1 probabilities, 2 log-probabilities
  target_kind: u32,       // 0 class indices, 1 class probabilities
  has_weight: u32,        // 1 when `weight` holds per-class weights, 0 for all ones
  ignore_index: i32,      // used by row-loss only
  label_smoothing: f32,   // epsilon in [0, 1]
  need_smoothing_sum: u32, // 1 when the smoothing sum is used (class indices with epsilon > 0)
}

// Online softmax state of a run of classes. Distances are measured from `max_value`.
struct RowState {
  max_value: f32,      // running max of x (0 for inputs that are already log-probabilities)
  sum_exp: f32,        // sum of exp(x - max_value)
  smooth_dist: f32,    // sum of w_c * (max_value - x_c)
  smooth_mass: f32,    // sum of w_c
  target_dist: f32,    // sum of w_c * t'_c * (max_value - x_c)
  target_mass: f32,    // sum of w_c * t'_c
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> target_probability: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<RowState>;

override workgroup_size: u32 = 64u;

// The value the loss treats as log p (before subtracting log-sum-exp, for logits).
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

// Adds one class to the state. `w` is its weight, `tw` its weight times smoothed target mass.
fn absorb(state: ptr<function, RowState>, x: f32, w: f32, tw: f32) {
  if (params.input_kind == INPUT_LOGITS) {
    if (x > (*state).max_value) {
      // Re-measure everything from the new max: every earlier distance grows by `shift`.
      let shift = x - (*state).max_value;
      (*state).sum_exp *= exp(-shift);
      (*state).smooth_dist += shift * (*state).smooth_mass;
      (*state).target_dist += shift * (*state).target_mass;
      (*state).max_value = x;
    }
  }
  // x == max covers a run of -inf masks (where max - x would be NaN): it counts as the max itself.
  let dist = select((*state).max_value - x, 0.0, x == (*state).max_value);
  (*state).sum_exp += exp(-dist);
  if (params.need_smoothing_sum == 1u) {
    (*state).smooth_dist += w * dist;
    (*state).smooth_mass += w;
  }
  if (params.target_kind == TARGET_PROBABILITIES) {
    (*state).target_dist += tw * dist;
    (*state).target_mass += tw;
  }
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = (group.y * groups.x + group.x) * workgroup_size + lane;
  if (index >= params.rows * params.chunks) {
    return;
  }
  let row = index % params.rows;
  let chunk = index / params.rows;
  let n = row / params.inner;
  let s = row % params.inner;
  let row_base = n * params.classes * params.inner + s;

  let first = chunk * params.chunk_len;
  let end = min(first + params.chunk_len, params.classes);
  let smooth_keep = 1.0 - params.label_smoothing;
  let smooth_spread = params.label_smoothing / f32(params.classes);

  var state = RowState(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (params.input_kind == INPUT_LOGITS) {
    // Start from the first element rather than a sentinel: the max is one of the values.
    state.max_value = logits[row_base + first * params.inner];
  }
  for (var c = first; c < end; c++) {
    let at = row_base + c * params.inner;
    let w = class_weight(c);
    var tw = 0.0;
    if (params.target_kind == TARGET_PROBABILITIES) {
      tw = w * (target_probability[at] * smooth_keep + smooth_spread);
    }
    absorb(&state, log_space(logits[at]), w, tw);
  }
  partials[index] = state;
}
