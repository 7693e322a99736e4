// Row statistics: one pass over a chunk of one row's classes, keeping an online softmax state.
// (lib/row-scan.wgsl, joined before it, declares the input bindings; src/gpu/shader-modules.ts lists the files joined before it.)
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

@group(0) @binding(5) var<storage, read_write> partials: array<RowState>;

override workgroup_size: u32 = 64u;

// The scan reads the input through this (see lib/row-scan.wgsl).
fn input_at(at: u32) -> f32 {
  return stored_input(at);
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
  partials[index] = scan_row(range.row, range.first, range.end);
}
