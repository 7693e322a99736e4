// Row loss: merges one row's chunk states into its log-sum-exp and computes the row's log-loss
// (PyTorch cross_entropy: weight, ignore_index, label_smoothing, class-index or probability target),
// plus the optional z-loss. (The host prepends row-common.wgsl, precise-math.wgsl, row-scan.wgsl,
// which declares bindings 1 to 4, and row-scan-lanes.wgsl, which declares vec4 views of 1 and 3.)
//
// Algorithm: chunk states are merged in chunk order (so reruns are bit-identical), giving
// lse = max + log(1 + excess_exp); the loss is w_y * (lse - x_y), plus the smoothing or
// probability-target sums, all written as non-negative distances from the max. Each row also
// writes the weight it adds to the 'mean' denominator (w[y] for class indices, 0 when ignored, 1 for
// probability targets) and its merged summary, which the gradient and row statistics read.
// Entry points: `main` merges the chunk states row-stats wrote; `main_scan` (rows one chunk long,
// read as scalars) scans its row itself, so no row-stats pass runs and the state never goes through
// memory; `main_lanes` does the same for four neighbouring rows of a K-dimensional layout at once
// (row-scan-lanes.wgsl). Each binds only what it reads (8 storage buffers at most, WebGPU's default
// per stage).
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
//   status       : out, atomics: [count of out-of-range targets, first such row (u32 max if none)]

struct Status {
  bad_target_count: atomic<u32>,
  first_bad_row: atomic<u32>,
}

@group(0) @binding(5) var<storage, read> partials: array<RowState>;
@group(0) @binding(6) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(7) var<storage, read_write> row_weight: array<f32>;
@group(0) @binding(8) var<storage, read_write> row_summary: array<RowSummary>;
@group(0) @binding(9) var<storage, read_write> status: Status;

override workgroup_size: u32 = 64u;

fn write_row(row: u32, loss: f32, denominator_weight: f32, summary: RowSummary) {
  row_loss[row] = loss;
  row_weight[row] = denominator_weight;
  if (WRITE_SUMMARY) {
    row_summary[row] = summary;
  }
}

// Everything after the row's state is known: log-sum-exp, the loss, the weight, the summary.
// `y_global` is the row's class index as given (read when TARGET_KIND == 0).
fn finish_row(row: u32, merged: RowState, y_global: i32) {
  var state = merged;
  // log(sum exp(x - max)): the row's log-sum-exp minus its max; 0 when the input is already log p.
  var log_norm = 0.0;
  var excess = 0.0;
  var z_term = 0.0;
  if (INPUT_KIND == INPUT_LOGITS) {
    // The sum of exponentials is 1 + excess (the max's own term and the rest); while the rest is
    // at most 1, log1p_unit keeps the small log exact. Both logs are exact to about an ulp: every
    // log p of the row carries this one's error.
    excess = state.excess_exp;
    log_norm = select(precise_log(1.0 + excess), log1p_unit(excess), excess <= 1.0);
    if (!is_finite(state.max_value)) {
      // PyTorch: lse = +inf makes log p NaN wherever x = +inf; a row of only -inf has lse = -inf
      // and log p NaN everywhere. Either way every sum over the row's log p is NaN.
      state.smooth_dist = quiet_nan();
      state.target_dist = quiet_nan();
    }
    let lse = state.max_value + log_norm;
    z_term = params.z_loss * lse * lse;
  }
  var mass_error = state.smooth_mass_error;
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    mass_error = state.target_mass_error;
  }
  var summary = RowSummary(state.max_value, log_norm, state.smooth_dist, state.smooth_mass,
                           state.target_dist, state.target_mass, state.target_logit, 1.0, ROW_USED,
                           excess, mass_error);

  if (TARGET_KIND != TARGET_CLASS_INDEX) {
    write_row(row, state.target_dist + log_norm * state.target_mass + z_term, 1.0, summary);
    return;
  }

  if (y_global == params.ignore_index) {
    summary.kind = ROW_IGNORED;
    summary.target_weight = 0.0;
    write_row(row, 0.0, 0.0, summary);
    return;
  }
  let y = local_class(y_global);
  if (y < 0 || u32(y) >= params.classes) {
    summary.kind = ROW_TARGET_ABSENT;
    summary.target_weight = 0.0;
    if (params.sharded == 1u) {
      // Another shard holds this row's target class.
      write_row(row, 0.0, 0.0, summary);
      return;
    }
    atomicAdd(&status.bad_target_count, 1u);
    atomicMin(&status.first_bad_row, params.first_row + row);
    // The host rejects the whole result; it reads the offending index back from this slot.
    write_row(row, bitcast<f32>(y_global), 0.0, summary);
    return;
  }
  let w_y = class_weight(u32(y));
  summary.target_weight = w_y;
  // -log p_y = lse - x_y = (max - x_y) + log_norm, both terms non-negative for logits.
  let nll = w_y * ((state.max_value - state.target_logit) + log_norm);
  var loss = nll;
  if (NEED_SMOOTHING_SUM) {
    let smoothing_sum = state.smooth_dist + log_norm * state.smooth_mass;
    loss = (1.0 - params.label_smoothing) * nll
         + (params.label_smoothing / f32(params.classes)) * smoothing_sum;
  }
  write_row(row, loss + z_term, w_y, summary);
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
  finish_row(row, state, class_target_of(row));
}

@compute @workgroup_size(workgroup_size)
fn main_scan(@builtin(workgroup_id) group: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  let row = invocation_index(group, groups, lane, workgroup_size);
  if (row >= params.rows) {
    return;
  }
  finish_row(row, scan_row(row, 0u, params.classes), class_target_of(row));
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
    finish_row(row + k, lane_state(states, k), states.class_targets[k]);
  }
}
