// Row loss: merges one row's chunk states into its log-sum-exp and computes the row's log-loss
// (PyTorch cross_entropy: weight, ignore_index, label_smoothing, class-index or probability target),
// plus the optional z-loss. (Joined before it: lib/row-scan.wgsl, which declares the input
// bindings, lib/row-scan-lanes.wgsl, their vec4 views, and lib/row-finish.wgsl, which finishes a row
// from its state and declares `status`; src/gpu/shader-modules.ts lists the files joined before it.)
//
// Algorithm: chunk states are merged in chunk order (so reruns are bit-identical), giving
// lse = max + log(1 + excess_exp); the loss is w_y * (lse - x_y), plus the smoothing or
// probability-target sums, all written as non-negative distances from the max. Each row also
// writes the weight it adds to the 'mean' denominator (w[y] for class indices, 0 when ignored, 1 for
// probability targets) and its merged summary, which the gradient and row statistics read.
// Entry points: `main` merges the chunk states row-stats wrote; `main_scan` (rows one chunk long,
// read as scalars) scans its row itself, so no row-stats pass runs and the state never goes through
// memory; `main_lanes` does the same for four neighbouring rows of a K-dimensional layout at once
// (lib/row-scan-lanes.wgsl). Each binds only what it reads (8 storage buffers at most, WebGPU's default
// per stage). With a gradient, rows that one invocation scans whole go through row-loss-grad.wgsl
// instead, which writes the gradient in the same pass.
// Dispatch: one invocation per row (per four rows for `main_lanes`), 2-D folded.
//
// Bindings:
//   params       : (row-common) shapes and options of this call
//   1 to 4       : (row-scan) logits and target_probability (main_scan; their vec4 views for
//                  main_lanes), class_target, weight
//   partials     : chunk states from row-stats, at chunk * rows + row (main)
//   row_loss     : out, the loss of each row (0 for ignored rows; the index's bits for a bad target)
//   row_weight   : out, each row's contribution to the 'mean' denominator
//   row_summary  : out, each row's merged statistics (when WRITE_SUMMARY: a gradient or statistics follow)
//   status       : (row-finish) out, bad class indices

@group(0) @binding(5) var<storage, read> partials: array<RowState>;
@group(0) @binding(6) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(7) var<storage, read_write> row_weight: array<f32>;
@group(0) @binding(8) var<storage, read_write> row_summary: array<RowSummary>;

override workgroup_size: u32 = 64u;

// The scans read the input through these (row-loss-grad reads it where the gradient goes).
fn input_at(at: u32) -> f32 {
  return stored_input(at);
}

fn input4_at(at: u32) -> vec4<f32> {
  return stored_input4(at);
}

fn write_row(row: u32, finished: FinishedRow) {
  row_loss[row] = finished.loss;
  row_weight[row] = finished.denominator_weight;
  if (WRITE_SUMMARY) {
    row_summary[row] = finished.summary;
  }
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let row = invocation_index(group, groups, lane, workgroup_size);
  if (row >= params.rows) {
    return;
  }
  var state = partials[row];
  for (var chunk = 1u; chunk < params.chunks; chunk++) {
    state = merge_states(state, partials[chunk * params.rows + row]);
  }
  write_row(row, finish_row(row, state, class_target_of(row)));
}

@compute @workgroup_size(workgroup_size)
fn main_scan(@builtin(workgroup_id) group: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  let row = invocation_index(group, groups, lane, workgroup_size);
  if (row >= params.rows) {
    return;
  }
  write_row(row, finish_row(row, scan_row(row, 0u, params.classes), class_target_of(row)));
}

@compute @workgroup_size(workgroup_size)
fn main_lanes(@builtin(workgroup_id) group: vec3<u32>,
              @builtin(num_workgroups) groups: vec3<u32>,
              @builtin(local_invocation_index) lane: u32) {
  // params.rows is a multiple of 4 here (whole samples of a multiple of 4 positions each).
  let row = 4u * invocation_index(group, groups, lane, workgroup_size);
  if (row >= params.rows) {
    return;
  }
  let states = scan_lanes(row);
  for (var k = 0u; k < 4u; k++) {
    write_row(row + k, finish_row(row + k, lane_state(states, k), states.class_targets[k]));
  }
}
