// Row statistics: one pass over a chunk of one row's classes, keeping an online softmax state.
// (The host prepends row-common.wgsl: Params, RowState, `params` at binding 0, helpers.)
//
// Algorithm: each invocation walks `chunk_len` consecutive classes of one row, in class order, and
// keeps the running max m, the sum of exp(x - m), and weighted sums of the distance (m - x) that the
// log-loss needs (label smoothing, probability targets). When m grows, every sum is rescaled to the
// new max, so all terms stay non-negative. The chunk that holds the target class records x_y.
// Dispatch: one invocation per (chunk, row) pair, rows fastest (so neighbouring invocations read
// neighbouring memory when classes are strided, as in [N, C, d1..dk]); 2-D folded.
//
// Bindings:
//   params             : (row-common) shapes and options of this call
//   logits             : the input, row-major [N, C, d1..dk]
//   class_target       : class indices [N, d1..dk] (read when TARGET_KIND == 0)
//   target_probability : class probabilities with the logits' layout (read when TARGET_KIND == 1)
//   weight             : per-class weight [C] (read when HAS_WEIGHT)
//   partials           : out, one RowState per (chunk, row), at chunk * rows + row

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<RowState>;

override workgroup_size: u32 = 64u;

fn class_weight(c: u32) -> f32 {
  if (HAS_WEIGHT) {
    return weight[c];
  }
  return 1.0;
}

// Adds one class to the state. `w` is its weight, `tw` its weight times smoothed target mass.
fn absorb(state: ptr<function, RowState>, x: f32, w: f32, tw: f32) {
  if (INPUT_KIND == INPUT_LOGITS) {
    if (x > (*state).max_value) {
      // Re-measure everything from the new max: every earlier distance grows by `shift`.
      let shift = x - (*state).max_value;
      (*state).sum_exp *= exp(-shift);
      if (NEED_SMOOTHING_SUM) {
        (*state).smooth_dist += shift * (*state).smooth_mass;
      }
      if (TARGET_KIND == TARGET_PROBABILITIES) {
        (*state).target_dist += shift * (*state).target_mass;
      }
      (*state).max_value = x;
    }
  }
  // x == max covers a run of -inf masks (where max - x would be NaN): it counts as the max itself.
  let dist = select((*state).max_value - x, 0.0, x == (*state).max_value);
  (*state).sum_exp += exp(-dist);
  if (NEED_SMOOTHING_SUM) {
    (*state).smooth_dist += w * dist;
    (*state).smooth_mass += w;
  }
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    (*state).target_dist += tw * dist;
    (*state).target_mass += tw;
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
  let row = range.row;
  let first = range.first;
  let end = range.end;
  let smooth_keep = 1.0 - params.label_smoothing;
  let smooth_spread = params.label_smoothing / f32(params.classes);

  // Index arithmetic once per invocation: integer division is slow where SIMD lanes are emulated.
  let base = element_index(row, first);
  let stride = params.inner;
  var state = RowState(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (INPUT_KIND == INPUT_LOGITS) {
    // Start from the first element rather than a sentinel: the max is one of the values.
    state.max_value = log_space(logits[base]);
  }
  var at = base;
  for (var c = first; c < end; c++) {
    let w = class_weight(c);
    var tw = 0.0;
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      tw = w * (target_probability[at] * smooth_keep + smooth_spread);
    }
    absorb(&state, log_space(logits[at]), w, tw);
    at += stride;
  }
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    let y = local_class(class_target[row]);
    if (y >= i32(first) && y < i32(end)) {
      state.target_logit = log_space(logits[element_index(row, u32(y))]);
    }
  }
  partials[index] = state;
}
