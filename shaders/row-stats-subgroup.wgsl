enable subgroups;

// Row statistics for contiguous rows ([N, C] with C a multiple of 4) where a subgroup walks each
// chunk together: invocation i of the subgroup takes vec4s first + i, first + i + W, ..., so on
// each step the subgroup reads W neighbouring vec4s (one coalesced run on a GPU), and the W online
// softmax states are merged with subgroup shuffles before one invocation writes the chunk's
// state. (This file comes first in its module, for `enable`; lib/row-scan-vec4.wgsl, joined after
// it, declares the bindings and the vec4 step.)
// Dispatch: one workgroup per (chunk, row) pair, rows fastest, 2-D folded; the workgroup size is
// the adapter's smallest subgroup size, so each workgroup is exactly one subgroup and no barrier or
// workgroup memory is needed. The merge order is fixed by the device, so reruns are bit-identical.

override workgroup_size: u32 = 4u;

// The subgroup's states merged by a butterfly: at step k each invocation merges with the one whose
// index differs in bit k, the lower index's state first, so every invocation ends with the same
// merge of all of them in one fixed order (bit-identical reruns) and the masses keep their errors.
fn subgroup_merge(state: RowState, subgroup_lane: u32) -> RowState {
  var merged = state;
  for (var step = 1u; step < workgroup_size; step <<= 1u) {
    var other: RowState;
    other.max_value = subgroupShuffleXor(merged.max_value, step);
    other.excess_exp = subgroupShuffleXor(merged.excess_exp, step);
    other.smooth_dist = subgroupShuffleXor(merged.smooth_dist, step);
    other.smooth_mass = subgroupShuffleXor(merged.smooth_mass, step);
    other.target_dist = subgroupShuffleXor(merged.target_dist, step);
    other.target_mass = subgroupShuffleXor(merged.target_mass, step);
    other.target_logit = 0.0;
    other.smooth_mass_error = subgroupShuffleXor(merged.smooth_mass_error, step);
    other.target_mass_error = subgroupShuffleXor(merged.target_mass_error, step);
    if ((subgroup_lane & step) == 0u) {
      merged = merge_states(merged, other);
    } else {
      merged = merge_states(other, merged);
    }
  }
  return merged;
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32,
        @builtin(subgroup_invocation_id) subgroup_lane: u32) {
  let index = group.y * groups.x + group.x;
  // Uniform across the workgroup: the whole subgroup returns or none of it does.
  if (index >= params.rows * params.chunks) {
    return;
  }
  let walk = chunk_walk(index);
  let range = walk.range;
  let state = scan_vec4s(walk, range.first + lane, range.end, workgroup_size);
  var merged = subgroup_merge(state, subgroup_lane);
  if (lane == 0u) {
    merged.target_logit = target_logit4(range.row, 4u * walk.row_base, 4u * range.first, 4u * range.end);
    partials[index] = merged;
  }
}
