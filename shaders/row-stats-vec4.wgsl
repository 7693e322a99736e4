// Row statistics for contiguous rows ([N, C] with C a multiple of 4): row-stats.wgsl's pass, four
// classes per load, each invocation walking its chunk of a row in memory order. (The host prepends
// row-common.wgsl and row-scan-vec4.wgsl, which declares the bindings and the vec4 step.)
// Dispatch: one invocation per (chunk, row) pair, rows fastest; chunk_len is a multiple of 4.

override workgroup_size: u32 = 64u;

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let walk = chunk_walk(index);
  let range = walk.range;
  var state = scan_vec4s(walk, range.first, range.end, 1u);
  state.target_logit = target_logit4(range.row, walk.row_base, range.first, range.end);
  partials[index] = state;
}
