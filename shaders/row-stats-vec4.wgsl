// Row statistics for contiguous rows ([N, C] with C a multiple of 4): row-stats.wgsl's pass, four
// classes per load. (The host prepends row-common.wgsl.)
//
// Algorithm: as row-stats, but each step takes a vec4 of classes: the max moves at most once per
// step (to the largest of the four), and the four exponentials and distances are computed as one
// vector, which halves the work per class where SIMD lanes are emulated (SwiftShader) and keeps
// loads 16 bytes wide on any GPU.
// Dispatch: one invocation per (chunk, row) pair, rows fastest; chunk_len is a multiple of 4.
//
// Bindings:
//   params             : (row-common) shapes and options of this call
//   logits             : the input [N, C] as vec4s
//   class_target       : class indices [N] (read when TARGET_KIND == 0)
//   target_probability : class probabilities [N, C] as vec4s (read when TARGET_KIND == 1)
//   weight             : per-class weight [C] as vec4s (read when HAS_WEIGHT)
//   partials           : out, one RowState per (chunk, row), at chunk * rows + row

@group(0) @binding(1) var<storage, read> logits: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> partials: array<RowState>;

override workgroup_size: u32 = 64u;

fn log_space4(x: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(log_space(x.x), log_space(x.y), log_space(x.z), log_space(x.w));
}

fn sum4(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let range = chunk_of_row(index, 4u);
  let row = range.row;
  let first = range.first;
  let end = range.end;
  let row_base = row * (params.classes / 4u);
  let smooth_keep = 1.0 - params.label_smoothing;
  let smooth_spread = params.label_smoothing / f32(params.classes);

  var state = RowState(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (INPUT_KIND == INPUT_LOGITS) {
    // Start from the largest of the first four: the first step then shifts nothing (a shift of an
    // empty state would be inf * 0 = NaN when the first class is a -inf mask).
    let v = log_space4(logits[row_base + first]);
    state.max_value = max(max(v.x, v.y), max(v.z, v.w));
  }
  for (var q = first; q < end; q++) {
    let v = log_space4(logits[row_base + q]);
    if (INPUT_KIND == INPUT_LOGITS) {
      let m4 = max(max(v.x, v.y), max(v.z, v.w));
      if (m4 > state.max_value) {
        let shift = m4 - state.max_value;
        state.sum_exp *= exp(-shift);
        if (NEED_SMOOTHING_SUM) {
          state.smooth_dist += shift * state.smooth_mass;
        }
        if (TARGET_KIND == TARGET_PROBABILITIES) {
          state.target_dist += shift * state.target_mass;
        }
        state.max_value = m4;
      }
    }
    let m = vec4<f32>(state.max_value);
    // v == max covers runs of -inf masks (max - v would be NaN): they count as the max itself.
    let dist = select(m - v, vec4<f32>(0.0), v == m);
    state.sum_exp += sum4(exp(-dist));
    var w = vec4<f32>(1.0);
    if (HAS_WEIGHT) {
      w = weight[q];
    }
    if (NEED_SMOOTHING_SUM) {
      state.smooth_dist += dot(w, dist);
      state.smooth_mass += sum4(w);
    }
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      let tw = w * (target_probability[row_base + q] * smooth_keep + smooth_spread);
      state.target_dist += dot(tw, dist);
      state.target_mass += sum4(tw);
    }
  }
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    let y = local_class(class_target[row]);
    if (y >= i32(first * 4u) && y < i32(end * 4u)) {
      state.target_logit = log_space(logits[row_base + u32(y) / 4u][u32(y) % 4u]);
    }
  }
  partials[index] = state;
}
