// Row statistics for contiguous rows ([N, C]): row-stats.wgsl's pass, four classes per load, each
// invocation walking its chunk of a row in memory order; `main` for C a multiple of 4,
// `main_unaligned` for other C. (The host prepends row-common.wgsl and row-scan-vec4.wgsl, which
// declares the bindings and the vec4 step.)
// Dispatch: one invocation per (chunk, row) pair, rows fastest; for `main` chunk_len is a multiple
// of 4.

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
  state.target_logit = target_logit4(range.row, 4u * walk.row_base, 4u * range.first, 4u * range.end);
  partials[index] = state;
}

// Rows whose length is not a multiple of 4, read through the vec4 view all the same (the first and
// last vec4 of a chunk masked to it): on SwiftShader a forward pass over [4096, 1001] or
// [256, 32001] took 0.6-0.8x the time of the scalar kernels' (Node A/B). The binding must end on a
// vec4 (rows * C a multiple of 4; the host falls back to the scalar kernels otherwise).
@compute @workgroup_size(workgroup_size)
fn main_unaligned(@builtin(workgroup_id) group: vec3<u32>,
                  @builtin(num_workgroups) groups: vec3<u32>,
                  @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let range = chunk_of_row(index, 1u);
  var state = scan_unaligned(range.row, range.first, range.end);
  state.target_logit = target_logit4(range.row, range.row * params.classes, range.first, range.end);
  partials[index] = state;
}
