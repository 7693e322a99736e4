// Row statistics for contiguous rows ([N, C]): row-stats.wgsl's pass, four classes per load, each
// invocation walking its chunk of a row in memory order; `main` for C a multiple of 4,
// `main_unaligned` for other C. (lib/row-scan-vec4.wgsl, joined before it, declares the bindings
// and the vec4 step; src/gpu/shader-modules.ts lists the files joined before it.)
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
// last vec4 of a chunk masked to it): four classes a load pay for the masking (docs/performance.md,
// kernel design choices). The binding must end on a vec4 (rows * C a multiple of 4; the host falls back to the scalar kernels otherwise).
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
