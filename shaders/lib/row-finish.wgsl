// Finishing a row: from its merged softmax state and its target, the row's log-loss (PyTorch
// cross_entropy: weight, ignore_index, label_smoothing, class-index or probability target) plus the
// optional z-loss, the weight it adds to the 'mean' denominator, and its summary for a gradient or
// row statistics. Shared by row-loss (which writes the summary) and row-loss-grad (which uses it at
// once).
//
// Needs from its includer: lib/row-common.wgsl, lib/precise-math.wgsl, lib/class-weight.wgsl and
// lib/row-scan.wgsl (class_target_of), joined before it.
//
// Bindings (of the kernels this file is part of):
//   status : out, atomics: [count of out-of-range class indices, first such row (u32 max if none)]

struct Status {
  bad_target_count: atomic<u32>,
  first_bad_row: atomic<u32>,
}

@group(0) @binding(9) var<storage, read_write> status: Status;

// What a row's class index (as given) means here: a used row with its class relative to this
// shard and its weight, an ignored row, or one whose class lies outside [0, C).
struct RowTarget {
  kind: u32,    // ROW_USED, ROW_IGNORED or ROW_TARGET_ABSENT
  y: i32,       // local_class of the index (for ROW_USED, in [0, C))
  weight: f32,  // w[y] for a used row, else 0
}

fn row_target(y_global: i32) -> RowTarget {
  if (y_global == params.ignore_index) {
    return RowTarget(ROW_IGNORED, 0, 0.0);
  }
  let y = local_class(y_global);
  if (y < 0 || u32(y) >= params.classes) {
    return RowTarget(ROW_TARGET_ABSENT, y, 0.0);
  }
  return RowTarget(ROW_USED, y, class_weight(u32(y)));
}

// The weight a row adds to the 'mean' denominator: w[y] for a used class index, 0 for an ignored
// or absent one, 1 for probability targets. `y_global` is read when TARGET_KIND == 0.
fn denominator_weight(y_global: i32) -> f32 {
  if (TARGET_KIND != TARGET_CLASS_INDEX) {
    return 1.0;
  }
  return row_target(y_global).weight;
}

// A finished row: its loss (for a bad class index, the index's bits: the host reads the offending
// value back from this slot), its denominator weight, and its summary.
struct FinishedRow {
  loss: f32,
  denominator_weight: f32,
  summary: RowSummary,
}

// Everything after the row's state is known: log-sum-exp, the loss, the weight, the summary; an
// out-of-range class index is counted in `status`. `y_global` is the row's class index as given
// (read when TARGET_KIND == 0).
fn finish_row(row: u32, merged: RowState, y_global: i32) -> FinishedRow {
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
    return FinishedRow(state.target_dist + log_norm * state.target_mass + z_term, 1.0, summary);
  }

  let row_class = row_target(y_global);
  summary.kind = row_class.kind;
  summary.target_weight = row_class.weight;
  if (row_class.kind == ROW_IGNORED) {
    return FinishedRow(0.0, 0.0, summary);
  }
  if (row_class.kind == ROW_TARGET_ABSENT) {
    if (params.sharded == 1u) {
      // Another shard holds this row's target class.
      return FinishedRow(0.0, 0.0, summary);
    }
    atomicAdd(&status.bad_target_count, 1u);
    atomicMin(&status.first_bad_row, params.first_row + row);
    return FinishedRow(bitcast<f32>(y_global), 0.0, summary);
  }
  let w_y = row_class.weight;
  // -log p_y = lse - x_y = (max - x_y) + log_norm, both terms non-negative for logits.
  let nll = w_y * ((state.max_value - state.target_logit) + log_norm);
  var loss = nll;
  if (NEED_SMOOTHING_SUM) {
    let smoothing_sum = state.smooth_dist + log_norm * state.smooth_mass;
    loss = (1.0 - params.label_smoothing) * nll
         + (params.label_smoothing / f32(params.classes)) * smoothing_sum;
  }
  return FinishedRow(loss + z_term, w_y, summary);
}
