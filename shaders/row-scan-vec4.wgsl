// Scanning contiguous rows four classes at a time ([N, C] with C a multiple of 4) into online
// softmax states: shared by row-stats-vec4 (one invocation walks its chunk) and row-stats-subgroup
// (the invocations of a subgroup walk one chunk together, interleaved). The host prepends
// row-common.wgsl; the bindings below belong to the kernels this file is part of.
//
// Each step takes a vec4 of classes: the max moves at most once per step (to the largest of the
// four), and the four exponentials and distances are one vector operation, which halves the work
// per class where SIMD lanes are emulated (SwiftShader) and keeps loads 16 bytes wide on any GPU.
//
// Bindings:
//   params             : (row-common) shapes and options of this call
//   logits             : the input [N, C] as vec4s
//   class_target       : class indices [N] (read when TARGET_KIND == 0)
//   target_probability : class probabilities [N, C] as vec4s (read when TARGET_KIND == 1)
//   weight             : per-class weight [C] as vec4s (read when HAS_WEIGHT)
//   partials           : out, one RowState per (chunk, row), at chunk * rows + row

@group(0) @binding(1) var<storage, read> logits: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> weight: array<vec4<f32>>;
// The same weights one per class, for walks over rows that are not a multiple of 4 long.
@group(0) @binding(4) var<storage, read> class_weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<RowState>;

// Set for row-stats-vec4's `main_unaligned`: the first and last vec4 of a run may hold other rows'
// values, which the step masks out. An override, so that the other kernels' steps carry no mask:
// as a constant argument the mask still cost a forward pass over [4096, 1000] about 15% more time
// on SwiftShader.
override MASKED_WALK: bool = false;

fn log_space4(x: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(log_space(x.x), log_space(x.y), log_space(x.z), log_space(x.w));
}

fn sum4(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

// The four added one by one, each with its rounding error: a mass must stay exact to the last
// digits of a small weight beside a large one (a gradient takes the mass minus the large one).
fn add_compensated4(sum: ptr<function, f32>, error: ptr<function, f32>, v: vec4<f32>) {
  add_compensated(sum, error, v.x);
  add_compensated(sum, error, v.y);
  add_compensated(sum, error, v.z);
  add_compensated(sum, error, v.w);
}

// What walking one (chunk, row) pair needs: its classes (in vec4 steps), where its row starts, and
// the label-smoothing factors of probability targets, t' = t * smooth_keep + smooth_spread.
struct ChunkWalk {
  range: ChunkOfRow,
  row_base: u32,
  smooth_keep: f32,
  smooth_spread: f32,
}

fn chunk_walk(index: u32) -> ChunkWalk {
  let range = chunk_of_row(index, 4u);
  return ChunkWalk(range, range.row * (params.classes / 4u), 1.0 - params.label_smoothing,
                   params.label_smoothing / f32(params.classes));
}

// The online softmax step of four values, of which those in `valid` belong to the run (the head
// and tail of a row that does not start on a vec4 boundary share their vec4s with other rows).
// Where the largest valid value is above the max, the max moves there (shift_excess,
// shift_distances): rare after a row's first steps, and the loop's only branch. The rest is
// branch-free (on SwiftShader a forward pass over [256, 32000] took about 1.3x as long with the
// common case in a branch of its own): each value at the max adds 1 (but the new max's own) and
// the others exp(v - max), in one sum, since either nothing is at the max, or something is and the
// excess is then at least 1, so the 1s cannot round away the digits of a small excess. Returns the
// four distances from the max: 0 at the max (which covers runs of -inf masks, where max - v is NaN)
// and outside `valid`.
fn follow_max4(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, v: vec4<f32>,
               valid: vec4<bool>) -> vec4<f32> {
  let candidates = select(vec4<f32>(negative_infinity()), v, valid);
  let m4 = max(max(candidates.x, candidates.y), max(candidates.z, candidates.w));
  var moved = 0.0;
  if (m4 > (*state).max_value) {
    let shift = m4 - (*state).max_value;
    shift_excess(state, errors, shift);
    shift_distances(state, errors, shift);
    (*state).max_value = m4;
    moved = 1.0;
  }
  let m = vec4<f32>((*state).max_value);
  let at_max = (v == m) & valid;
  let none = at_max | !valid;
  let ties = dot(select(vec4<f32>(0.0), vec4<f32>(1.0), at_max), vec4<f32>(1.0)) - moved;
  let dist = select(m - v, vec4<f32>(0.0), none);
  add_compensated(&(*state).excess_exp, &(*errors).excess_exp,
                  sum4(select(exp(-dist), vec4<f32>(0.0), none)) + ties);
  return dist;
}

// Adds four values of the walk's row to the state: `v` in log space, of weights `w` and target
// probabilities `t` (read when TARGET_KIND == 1); with MASKED_WALK only those `in_run` count (`w`
// is 0 elsewhere).
fn absorb4(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, walk: ChunkWalk, v: vec4<f32>,
           w: vec4<f32>, t: vec4<f32>, in_run: vec4<bool>) {
  let valid = select(vec4<bool>(true), in_run, MASKED_WALK);
  var dist = select(vec4<f32>((*state).max_value) - v, vec4<f32>(0.0), !valid);
  if (INPUT_KIND == INPUT_LOGITS) {
    dist = follow_max4(state, errors, v, valid);
  }
  if (NEED_SMOOTHING_SUM) {
    add_compensated(&(*state).smooth_dist, &(*errors).smooth_dist, dot(w, dist));
    add_compensated4(&(*state).smooth_mass, &(*errors).smooth_mass, w);
  }
  var tw = vec4<f32>(1.0);
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    tw = select(vec4<f32>(0.0), w * (t * walk.smooth_keep + walk.smooth_spread), valid);
    add_compensated(&(*state).target_dist, &(*errors).target_dist, dot(tw, dist));
    add_compensated4(&(*state).target_mass, &(*errors).target_mass, tw);
  }
  let minus_infinity = (v == vec4<f32>(negative_infinity())) & valid;
  mark_zero_times_infinity(state, any(minus_infinity & (w == vec4<f32>(0.0))),
                           any(minus_infinity & (tw == vec4<f32>(0.0))));
}

// The state of vec4s start, start + stride, ... below `end` of the walk's row (stride 1: the whole
// chunk; the subgroup form's invocations take every stride-th). A walk that starts past `end` gives
// the empty state, which merges as nothing.
fn scan_vec4s(walk: ChunkWalk, start: u32, end: u32, stride: u32) -> RowState {
  var state = empty_state();
  var errors = SumErrors(0.0, 0.0, 0.0, 0.0, 0.0);
  let whole = vec4<bool>(true);
  for (var q = start; q < end; q += stride) {
    let at = walk.row_base + q;
    var w = vec4<f32>(1.0);
    if (HAS_WEIGHT) {
      w = weight[q];
    }
    var t = vec4<f32>(0.0);
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      t = target_probability[at];
    }
    absorb4(&state, &errors, walk, log_space4(logits[at]), w, t, whole);
  }
  fold_sum_errors(&state, errors);
  return state;
}

// Classes [first, end) of `row` in a layout whose rows are not a multiple of 4 long, read through
// the vec4 view all the same: the vec4s holding flat elements [row * C + first, row * C + end),
// the first and last masked to the run (MASKED_WALK). Weights are read per class.
fn scan_unaligned(row: u32, first: u32, end: u32) -> RowState {
  var state = empty_state();
  var errors = SumErrors(0.0, 0.0, 0.0, 0.0, 0.0);
  let walk = ChunkWalk(ChunkOfRow(row, first, end), 0u, 1.0 - params.label_smoothing,
                       params.label_smoothing / f32(params.classes));
  let row_start = row * params.classes;
  let first_element = row_start + first;
  let end_element = row_start + end;
  let lane_offsets = vec4<u32>(0u, 1u, 2u, 3u);
  let first_vec4 = first_element / 4u;
  let end_vec4 = (end_element + 3u) / 4u;
  for (var q = first_vec4; q < end_vec4; q++) {
    let element = 4u * q + lane_offsets;
    let valid = (element >= vec4<u32>(first_element)) & (element < vec4<u32>(end_element));
    var w = vec4<f32>(1.0);
    if (HAS_WEIGHT) {
      // Lanes outside the run read class 0's weight (in bounds) and are masked.
      let c = select(vec4<u32>(0u), element - row_start, valid);
      w = vec4<f32>(class_weights[c.x], class_weights[c.y], class_weights[c.z], class_weights[c.w]);
    }
    w = select(vec4<f32>(0.0), w, valid);
    var t = vec4<f32>(0.0);
    if (TARGET_KIND == TARGET_PROBABILITIES) {
      t = target_probability[q];
    }
    absorb4(&state, &errors, walk, log_space4(logits[q]), w, t, valid);
  }
  fold_sum_errors(&state, errors);
  return state;
}

// x_y for a class-index target that lies in classes [first, end) of the row starting at flat
// element `row_start`; 0 otherwise.
fn target_logit4(row: u32, row_start: u32, first: u32, end: u32) -> f32 {
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    let y = local_class(class_target[row]);
    if (y >= i32(first) && y < i32(end)) {
      let element = row_start + u32(y);
      return log_space(logits[element / 4u][element % 4u]);
    }
  }
  return 0.0;
}
