enable subgroups;

// Row statistics for contiguous rows ([N, C] with C a multiple of 4) where a subgroup walks each
// chunk together: invocation i of the subgroup takes vec4s first + i, first + i + W, ..., so on
// each step the subgroup reads W neighbouring vec4s (one coalesced run on a GPU), and the W online
// softmax states are merged with subgroup operations before one invocation writes the chunk's
// state. (The host puts this file first, for `enable`, then row-common.wgsl and row-scan-vec4.wgsl,
// which declares the bindings and the vec4 step.)
// Dispatch: one workgroup per (chunk, row) pair, rows fastest, 2-D folded; the workgroup size is
// the adapter's smallest subgroup size, so each workgroup is exactly one subgroup and no barrier or
// workgroup memory is needed. The merge order is fixed by the device, so reruns are bit-identical.

override workgroup_size: u32 = 4u;

// `state` of every invocation that read something (`has_data`), merged across the subgroup: each
// is re-measured from the subgroup's max before its sums are added (exact log-sum-exp).
fn subgroup_merge(state: RowState, has_data: bool) -> RowState {
  var shift = 0.0;
  var max_value = state.max_value;
  if (INPUT_KIND == INPUT_LOGITS) {
    max_value = subgroupMax(select(negative_infinity(), state.max_value, has_data));
    // A state whose max is the merged max needs no shift (this also keeps -inf runs NaN-free).
    shift = select(max_value - state.max_value, 0.0, state.max_value == max_value);
  }
  var sum_exp = 1.0;
  if (INPUT_KIND == INPUT_LOGITS) {
    sum_exp = subgroupAdd(select(0.0, state.sum_exp * exp(-shift), has_data));
  }
  var merged = RowState(max_value, sum_exp, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (NEED_SMOOTHING_SUM) {
    merged.smooth_dist = subgroupAdd(select(0.0, state.smooth_dist + shift * state.smooth_mass, has_data));
    merged.smooth_mass = subgroupAdd(select(0.0, state.smooth_mass, has_data));
  }
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    merged.target_dist = subgroupAdd(select(0.0, state.target_dist + shift * state.target_mass, has_data));
    merged.target_mass = subgroupAdd(select(0.0, state.target_mass, has_data));
  }
  return merged;
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = group.y * groups.x + group.x;
  // Uniform across the workgroup: the whole subgroup returns or none of it does.
  if (index >= params.rows * params.chunks) {
    return;
  }
  let walk = chunk_walk(index);
  let range = walk.range;
  let start = range.first + lane;
  let has_data = start < range.end;
  var state = RowState(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (has_data) {
    state = start_state4(walk.row_base, start);
    var errors = SumErrors(0.0, 0.0, 0.0, 0.0);
    for (var q = start; q < range.end; q += workgroup_size) {
      absorb4(&state, &errors, walk, q);
    }
    fold_sum_errors(&state, errors);
  }
  var merged = subgroup_merge(state, has_data);
  if (lane == 0u) {
    merged.target_logit = target_logit4(range.row, walk.row_base, range.first, range.end);
    partials[index] = merged;
  }
}
