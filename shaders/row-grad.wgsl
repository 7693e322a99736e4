// Gradient of the loss with respect to the input, from the row summaries row-loss wrote: no pass
// recomputes the max or the sum of exponentials. (lib/row-gradient.wgsl, joined before it, holds
// the formulas, the walk over one row's classes, and the `grad` and `scale_input` bindings;
// src/gpu/shader-modules.ts lists the files joined before it.)
//
// Used where a row is cut into chunks or read as vec4s by several invocations; rows that one
// invocation scans whole get their gradient from row-loss-grad.wgsl, in the pass that scans them.
// Dispatch: one invocation per (chunk, row) pair, as row-stats: a row's summary, target and scale
// are read once per invocation, then its chunk of classes is walked in memory order. 2-D folded.
// Entry points: `main` for any layout; `main_vec4` for contiguous rows whose length is a multiple
// of 4, which reads and writes four classes at a time through vec4 views of the same bindings;
// `main_unaligned` for contiguous rows of other lengths through the vec4 views (see its comment).
//
// Bindings:
//   params             : shapes and options of this call
//   logits             : the input (not read when GRAD_IN_PLACE: `grad` holds it then)
//   class_target       : class indices (read when TARGET_KIND == 0)
//   target_probability : class probabilities (read when TARGET_KIND == 1)
//   weight             : per-class weight [C] (read when HAS_WEIGHT)
//   row_summary        : each row's merged statistics, from row-loss
//   grad, scale_input  : (row-gradient) out, the gradient; the 'mean' denominator or grad_output

@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<f32>;
@group(0) @binding(8) var<storage, read> row_summary: array<RowSummary>;
// The same bindings seen as vec4s, for main_vec4 and main_unaligned only.
@group(0) @binding(3) var<storage, read> target_probability4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> weight4: array<vec4<f32>>;

override workgroup_size: u32 = 64u;



fn row_gradient(row: u32) -> RowGradient {
  var y = 0;
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    y = class_target[row];
  }
  return row_gradient_of(row_summary[row], y, row);
}

// The target class of a used row `r` starting at flat element `row_start`, when its vec4 is one of
// [first_vec4, end_vec4) (see OwnedTarget).
fn find_owned_target(r: RowGradient, row_start: u32, first_vec4: u32, end_vec4: u32) -> OwnedTarget {
  var found = OwnedTarget(false, 0u, 0u, 0.0);
  let element = row_start + u32(max(r.y, 0));
  if (FAST_CLASS_INDEX_PATH && r.used && element / 4u >= first_vec4 && element / 4u < end_vec4) {
    found = OwnedTarget(true, element / 4u, element % 4u, input4_at(element / 4u)[element % 4u]);
  }
  return found;
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
  write_row_gradient(row_gradient(range.row), range.row, range.first, range.end);
}

@compute @workgroup_size(workgroup_size)
fn main_vec4(@builtin(workgroup_id) group: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let range = chunk_of_row(index, 4u);
  let row_base = range.row * (params.classes / 4u);
  let r = row_gradient(range.row);
  if (FAST_CLASS_INDEX_PATH) {
    let target_class = find_owned_target(r, 4u * row_base, row_base + range.first, row_base + range.end);
    var rows = array<RowGradient, 4>(r, r, r, r);
    let lanes = lane_gradients(&rows);
    for (var q = range.first; q < range.end; q++) {
      var w = vec4<f32>(1.0);
      if (HAS_WEIGHT) {
        w = weight4[q];
      }
      grad4[row_base + q] = softmax_gradient4(&rows, lanes, input4_at(row_base + q), w);
    }
    var w = 1.0;
    if (HAS_WEIGHT) {
      let c = u32(max(r.y, 0));
      w = weight4[c / 4u][c % 4u];
    }
    rewrite_owned_target(r, target_class, w);
    return;
  }
  for (var q = range.first; q < range.end; q++) {
    let at = row_base + q;
    let x = input4_at(at);
    var w = vec4<f32>(1.0);
    if (HAS_WEIGHT) {
      w = weight4[q];
    }
    var t = vec4<f32>(0.0);
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      t = target_probability4[at];
    }
    let c = q * 4u;
    grad4[at] = vec4<f32>(class_gradient(r, c, x.x, w.x, t.x), class_gradient(r, c + 1u, x.y, w.y, t.y),
                          class_gradient(r, c + 2u, x.z, w.z, t.z), class_gradient(r, c + 3u, x.w, w.w, t.w));
  }
}

// Contiguous rows whose length is not a multiple of 4 (at least 64), through the vec4 views all the
// same. A vec4 belongs to the invocation whose classes hold its first element: it walks the vec4s
// from its first whole one to the one holding its last class, which may run into the next chunk of
// its row (the same row's statistics) or into the next row (that row's, lane by lane). Each vec4 is
// read and written by one invocation only, and each target class rewritten by the invocation that
// owns its vec4. The binding ends on a vec4 (rows * C a multiple of 4, as the host ensures). Four
// classes a load pay for the masking (docs/performance.md, kernel design choices).

// The weights of four classes (one per lane).
fn class_weights4(classes: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(class_weight(classes.x), class_weight(classes.y), class_weight(classes.z),
                   class_weight(classes.w));
}

// One vec4's gradient: lane k is class classes[k] of row (*rows)[k].
fn owned_gradient4(rows: ptr<function, array<RowGradient, 4>>, lanes: LaneGradients, classes: vec4<u32>,
                   q: u32) -> vec4<f32> {
  let x = input4_at(q);
  let w = class_weights4(classes);
  if (FAST_CLASS_INDEX_PATH) {
    return softmax_gradient4(rows, lanes, x, w);
  }
  var t = vec4<f32>(0.0);
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    t = target_probability4[q];
  }
  return vec4<f32>(class_gradient((*rows)[0], classes.x, x.x, w.x, t.x),
                   class_gradient((*rows)[1], classes.y, x.y, w.y, t.y),
                   class_gradient((*rows)[2], classes.z, x.z, w.z, t.z),
                   class_gradient((*rows)[3], classes.w, x.w, w.w, t.w));
}

@compute @workgroup_size(workgroup_size)
fn main_unaligned(@builtin(workgroup_id) group: vec3<u32>,
                  @builtin(num_workgroups) groups: vec3<u32>,
                  @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let range = chunk_of_row(index, 1u);
  let row_start = range.row * params.classes;
  let next_start = row_start + params.classes;
  let first_vec4 = (row_start + range.first + 3u) / 4u;
  let end_vec4 = (row_start + range.end + 3u) / 4u;
  let r = row_gradient(range.row);
  // The next row's statistics serve the lanes of the last vec4 past this row's end.
  let next = row_gradient(min(range.row + 1u, params.rows - 1u));
  let own_target = find_owned_target(r, row_start, first_vec4, end_vec4);
  let next_target = find_owned_target(next, next_start, end_vec4 - 1u, select(end_vec4 - 1u, end_vec4,
                                      range.end == params.classes && range.row + 1u < params.rows));
  var rows = array<RowGradient, 4>(r, r, r, r);
  let lanes = lane_gradients(&rows);
  let lane_offsets = vec4<u32>(0u, 1u, 2u, 3u);
  for (var q = first_vec4; q + 1u < end_vec4; q++) {
    grad4[q] = owned_gradient4(&rows, lanes, 4u * q + lane_offsets - row_start, q);
  }
  // The last vec4, whose lanes past the row's end (if any) belong to the next row.
  let q = end_vec4 - 1u;
  let element = 4u * q + lane_offsets;
  let in_next = element >= vec4<u32>(next_start);
  var mixed: array<RowGradient, 4>;
  for (var k = 0u; k < 4u; k++) {
    mixed[k] = r;
    if (in_next[k]) {
      mixed[k] = next;
    }
  }
  grad4[q] = owned_gradient4(&mixed, lane_gradients(&mixed), element - select(vec4<u32>(row_start),
                             vec4<u32>(next_start), in_next), q);
  rewrite_owned_target(r, own_target, class_weight(u32(max(r.y, 0))));
  rewrite_owned_target(next, next_target, class_weight(u32(max(next.y, 0))));
}
