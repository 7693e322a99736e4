// Loss and gradient in one pass, for rows that one invocation scans whole: rows one chunk long read
// as scalars (`main_scan`), and four neighbouring rows of a K-dimensional layout as the lanes of
// vec4s (`main_lanes`). Each invocation scans its rows, finishes them (lib/row-finish.wgsl), and walks
// them again to write their gradient while they are fresh, from the summaries it holds: no summary
// goes through memory, no second dispatch re-reads the rows' statistics. (src/gpu/shader-modules.ts lists the files joined before it.)
//
// The gradient of 'mean' needs the denominator, the sum of every row's weight, before any row is
// done: `main_weights` writes each row's weight from its target alone (no logit is read), and the
// host reduces them with batch-reduce (the same order, so the same bits, as the reduction of the
// loss that follows) before this pass runs. The rows are read once, not twice (row-loss, then
// row-grad), and their statistics never go through memory.
// Dispatch: one invocation per row (per four rows for `main_lanes`), 2-D folded.
//
// Bindings:
//   params       : (row-common) shapes and options of this call
//   1 to 4       : (row-scan, row-scan-lanes) the input, class_target, target_probability, weight;
//                  the input is not read when GRAD_IN_PLACE (`grad` holds it)
//   row_loss     : out, the loss of each row (0 for ignored rows; the index's bits for a bad target)
//   row_weight   : out, each row's contribution to the 'mean' denominator (main_weights only)
//   status       : (row-finish) out, bad class indices
//   grad         : (row-gradient) out, the gradient; the input itself when GRAD_IN_PLACE
//   scale_input  : (row-gradient) the 'mean' denominator, or grad_output for 'none'

@group(0) @binding(6) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(7) var<storage, read_write> row_weight: array<f32>;

override workgroup_size: u32 = 64u;

@compute @workgroup_size(workgroup_size)
fn main_weights(@builtin(workgroup_id) group: vec3<u32>,
                @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_index) lane: u32) {
  let row = invocation_index(group, groups, lane, workgroup_size);
  if (row >= params.rows) {
    return;
  }
  row_weight[row] = denominator_weight(class_target_of(row));
}

@compute @workgroup_size(workgroup_size)
fn main_scan(@builtin(workgroup_id) group: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  let row = invocation_index(group, groups, lane, workgroup_size);
  if (row >= params.rows) {
    return;
  }
  let y = class_target_of(row);
  let finished = finish_row(row, scan_row(row, 0u, params.classes), y);
  row_loss[row] = finished.loss;
  write_row_gradient(row_gradient_of(finished.summary, y, row), row, 0u, params.classes);
}

// The target of row `r`, lane `k` of the rows starting at vec4 `base`: the vec4 of its class.
fn lane_target(r: RowGradient, base: u32, stride: u32, k: u32) -> OwnedTarget {
  let q = base + u32(select(0, r.y, r.used)) * stride;
  return OwnedTarget(r.used, q, k, input4_at(q)[k]);
}

// Four neighbouring rows of a K-dimensional layout (rows one chunk long, inner a multiple of 4),
// a vec4 lane each: each class of the four is one vec4 load and store. The four rows are written
// out one by one: a dynamic index into a private array costs SwiftShader a gather of every field.
@compute @workgroup_size(workgroup_size)
fn main_lanes(@builtin(workgroup_id) group: vec3<u32>,
              @builtin(num_workgroups) groups: vec3<u32>,
              @builtin(local_invocation_index) lane: u32) {
  let row = 4u * invocation_index(group, groups, lane, workgroup_size);
  if (row >= params.rows) {
    return;
  }
  let scan = scan_lanes(row);
  let y = scan.class_targets;
  let finished = array<FinishedRow, 4>(finish_row(row, lane_state(scan, 0u), y.x),
                                       finish_row(row + 1u, lane_state(scan, 1u), y.y),
                                       finish_row(row + 2u, lane_state(scan, 2u), y.z),
                                       finish_row(row + 3u, lane_state(scan, 3u), y.w));
  row_loss[row] = finished[0].loss;
  row_loss[row + 1u] = finished[1].loss;
  row_loss[row + 2u] = finished[2].loss;
  row_loss[row + 3u] = finished[3].loss;
  let base = element_index(row, 0u) / 4u;
  let stride = params.inner / 4u;
  var rows = array<RowGradient, 4>(row_gradient_of(finished[0].summary, y.x, row),
                                   row_gradient_of(finished[1].summary, y.y, row + 1u),
                                   row_gradient_of(finished[2].summary, y.z, row + 2u),
                                   row_gradient_of(finished[3].summary, y.w, row + 3u));
  if (FAST_CLASS_INDEX_PATH) {
    let lanes = lane_gradients(&rows);
    // Each used row's target: lane k of the vec4 of its class, x_y read before the loop overwrites
    // it in place. Written out lane by lane: a dynamic index into a private array costs SwiftShader
    // a gather of every field.
    let targets = array<OwnedTarget, 4>(lane_target(rows[0], base, stride, 0u), lane_target(rows[1], base, stride, 1u),
                                        lane_target(rows[2], base, stride, 2u), lane_target(rows[3], base, stride, 3u));
    var at = base;
    for (var c = 0u; c < params.classes; c++) {
      grad4[at] = softmax_gradient4(&rows, lanes, input4_at(at), vec4<f32>(class_weight(c)));
      at += stride;
    }
    rewrite_owned_target(rows[0], targets[0], class_weight(u32(max(rows[0].y, 0))));
    rewrite_owned_target(rows[1], targets[1], class_weight(u32(max(rows[1].y, 0))));
    rewrite_owned_target(rows[2], targets[2], class_weight(u32(max(rows[2].y, 0))));
    rewrite_owned_target(rows[3], targets[3], class_weight(u32(max(rows[3].y, 0))));
    return;
  }
  var at = base;
  for (var c = 0u; c < params.classes; c++) {
    let x = input4_at(at);
    let w = class_weight(c);
    var t = vec4<f32>(0.0);
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      t = target_probability4[at];
    }
    grad4[at] = vec4<f32>(class_gradient(rows[0], c, x.x, w, t.x), class_gradient(rows[1], c, x.y, w, t.y),
                          class_gradient(rows[2], c, x.z, w, t.z), class_gradient(rows[3], c, x.w, w, t.w));
    at += stride;
  }
}
