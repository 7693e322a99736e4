// Scanning contiguous rows four classes at a time ([N, C] with C a multiple of 4) into online
// softmax states: shared by row-stats-vec4 (one invocation walks its chunk) and row-stats-subgroup
// (the invocations of a subgroup walk one chunk together, interleaved).
//
// Needs from its includer: lib/row-common.wgsl and an input library (lib/input-float32.wgsl or
// lib/input-half.wgsl, whose stored_input4 it reads the input through), joined before it. It
// declares the other bindings below for the kernels it is part of.
//
// Each step takes a vec4 of classes: the max moves at most once per step (to the largest of the
// four), and the four exponentials and distances are one vector operation, which halves the work
// per class where SIMD lanes are emulated (SwiftShader) and keeps loads 16 bytes wide on any GPU.
//
// Bindings:
//   params             : (row-common) shapes and options of this call
//   logits             : (the input library) the input [N, C]
//   class_target       : class indices [N] (read when TARGET_KIND == 0)
//   target_probability : class probabilities [N, C] as vec4s (read when TARGET_KIND == 1)
//   weight             : per-class weight [C] as vec4s (read when HAS_WEIGHT)
//   partials           : out, one RowState per (chunk, row), at chunk * rows + row

@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> weight: array<vec4<f32>>;
// The same weights one per class, for walks over rows that are not a multiple of 4 long.
@group(0) @binding(4) var<storage, read> class_weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<RowState>;

// Set for row-stats-vec4's `main_unaligned`: the first and last vec4 of a run may hold other rows'
// values, which the step masks out. An override, so that the other kernels' steps carry no mask
// (as a constant argument the mask still cost time).
override MASKED_WALK: bool = false;

fn sum4(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
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

// Where `m`, the largest of the values a step brings, is above the max, the max moves there
// (shift_excess, shift_distances). Returns 1 when the max moved (the new max's own term is the
// implicit 1 of the excess), else 0. Without a branch: SwiftShader runs a branch's body whether or
// not a lane takes it, and selects cost less than its lane masks. Where the max stays, the shift is 0 and the
// distance sums grow by 0: the same bits as the branch.
fn raise_max(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, m: f32) -> f32 {
  let moves = m > (*state).max_value;
  let shift = select(0.0, m - (*state).max_value, moves);
  var raised = *state;
  var raised_errors = *errors;
  shift_excess(&raised, &raised_errors, shift);
  (*state).excess_exp = select((*state).excess_exp, raised.excess_exp, moves);
  (*errors).excess_exp = select((*errors).excess_exp, raised_errors.excess_exp, moves);
  shift_distances(state, errors, shift);
  (*state).max_value = select((*state).max_value, m, moves);
  return select(0.0, 1.0, moves);
}

fn largest_valid4(v: vec4<f32>, valid: vec4<bool>) -> f32 {
  let candidates = select(vec4<f32>(negative_infinity()), v, valid);
  return max(max(candidates.x, candidates.y), max(candidates.z, candidates.w));
}

// Four values measured from the max `max_value` (already raised to cover them): their distances
// from it, for the other sums, and their exponentials and ties, for the excess. Each value at the
// max adds 1 (a tie, counted apart) and the others exp(v - max): the ties join the sum of the
// others only once that is complete, since either there is no tie, or there is one and the excess
// is then at least 1, so the 1s cannot round away the digits of a small excess. Branch-free (the
// common case in a branch of its own was slower where lanes are emulated). A value at the max takes exp(-inf) = 0, which also covers runs of -inf masks
// (where v - max is NaN); so does one outside `valid`, whose distance is 0.
struct MaxTerms4 {
  dist: vec4<f32>,
  exps: vec4<f32>,
  ties: vec4<f32>,
}

fn max_terms4(max_value: f32, v: vec4<f32>, valid: vec4<bool>) -> MaxTerms4 {
  let m = vec4<f32>(max_value);
  let at_max = (v == m) & valid;
  let none = at_max | !valid;
  let exps = exp(select(v - m, vec4<f32>(negative_infinity()), none));
  return MaxTerms4(select(m - v, vec4<f32>(0.0), none), exps, select(vec4<f32>(0.0), vec4<f32>(1.0), at_max));
}

// What the sums other than the excess take of four values of the walk's row: `v` in log space at
// distances `dist` from the max, of weights `w` and target probabilities `t` (read when
// TARGET_KIND == 1); only those `valid` count (`w` is 0 elsewhere).
fn absorb_masses4(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, walk: ChunkWalk,
                  v: vec4<f32>, dist: vec4<f32>, w: vec4<f32>, t: vec4<f32>, valid: vec4<bool>) {
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

// Adds four values of the walk's row to the state (the online softmax step of one vec4); with
// MASKED_WALK only those `in_run` count (`w` is 0 elsewhere).
fn absorb4(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, walk: ChunkWalk, v: vec4<f32>,
           w: vec4<f32>, t: vec4<f32>, in_run: vec4<bool>) {
  let valid = select(vec4<bool>(true), in_run, MASKED_WALK);
  var dist = select(vec4<f32>((*state).max_value) - v, vec4<f32>(0.0), !valid);
  if (INPUT_KIND == INPUT_LOGITS) {
    let moved = raise_max(state, errors, largest_valid4(v, valid));
    let terms = max_terms4((*state).max_value, v, valid);
    add_compensated(&(*state).excess_exp, &(*errors).excess_exp, sum4(terms.exps) + (sum4(terms.ties) - moved));
    dist = terms.dist;
  }
  absorb_masses4(state, errors, walk, v, dist, w, t, valid);
}

// One vec4 of the walk's row as read: logits in log space, weights, target probabilities.
struct Step4 {
  v: vec4<f32>,
  w: vec4<f32>,
  t: vec4<f32>,
}

fn read_step4(walk: ChunkWalk, q: u32) -> Step4 {
  var step = Step4(vec4<f32>(0.0), vec4<f32>(1.0), vec4<f32>(0.0));
  let at = walk.row_base + q;
  step.v = log_space4(stored_input4(at));
  if (HAS_WEIGHT) {
    step.w = weight[q];
  }
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    step.t = target_probability[at];
  }
  return step;
}

// Walks whose state is the max and the excess alone (logits, class-index targets, no label
// smoothing: the common case) take BLOCK_VEC4S vec4s a step. With masses to keep as well, a block's
// weights and distances outlive the registers, and blocks were slower.
override BLOCKED_WALK: bool = INPUT_KIND == INPUT_LOGITS && TARGET_KIND == TARGET_CLASS_INDEX && !NEED_SMOOTHING_SUM;
const BLOCK_VEC4S: u32 = 4u;

// Four vec4s of logits (in log space: softcapped with HAS_SOFTCAP) at once: absorb4 four times,
// but the max moves at most once, to the largest of the sixteen, and their excess is one
// compensated addition: fewer moves of the max and fewer branches, which SwiftShader runs whether or
// not any invocation takes them. Eight vec4s a step spill the registers.
fn absorb_block(state: ptr<function, RowState>, errors: ptr<function, SumErrors>,
                a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) {
  let largest = max(max(a, b), max(c, d));
  let moved = raise_max(state, errors, max(max(largest.x, largest.y), max(largest.z, largest.w)));
  let whole = vec4<bool>(true);
  let max_value = (*state).max_value;
  let ta = max_terms4(max_value, a, whole);
  let tb = max_terms4(max_value, b, whole);
  let tc = max_terms4(max_value, c, whole);
  let td = max_terms4(max_value, d, whole);
  let exps = (ta.exps + tb.exps) + (tc.exps + td.exps);
  let ties = (ta.ties + tb.ties) + (tc.ties + td.ties);
  add_compensated(&(*state).excess_exp, &(*errors).excess_exp, sum4(exps) + (sum4(ties) - moved));
}

// The state of vec4s start, start + stride, ... below `end` of the walk's row (stride 1: the whole
// chunk; the subgroup form's invocations take every stride-th). A walk that starts past `end` gives
// the empty state, which merges as nothing.
fn scan_vec4s(walk: ChunkWalk, start: u32, end: u32, stride: u32) -> RowState {
  var state = empty_state();
  var errors = SumErrors(0.0, 0.0, 0.0, 0.0, 0.0);
  var q = start;
  if (BLOCKED_WALK) {
    let span = BLOCK_VEC4S * stride;
    for (; q + span <= end; q += span) {
      let at = walk.row_base + q;
      absorb_block(&state, &errors, log_space4(stored_input4(at)), log_space4(stored_input4(at + stride)),
                   log_space4(stored_input4(at + 2u * stride)), log_space4(stored_input4(at + 3u * stride)));
    }
  }
  for (; q < end; q += stride) {
    let step = read_step4(walk, q);
    absorb4(&state, &errors, walk, step.v, step.w, step.t, vec4<bool>(true));
  }
  fold_sum_errors(&state, errors);
  return state;
}

// Classes [first, end) of `row` in a layout whose rows are not a multiple of 4 long, read through
// the vec4 view all the same: the vec4s holding flat elements [row * C + first, row * C + end),
// the first and last masked to the run (MASKED_WALK), those between them whole (blocks of
// BLOCK_VEC4S in a BLOCKED_WALK, which beat masked steps throughout). Weights are read per class.
struct UnalignedRun {
  walk: ChunkWalk,
  row_start: u32,       // flat element of the row's class 0
  first_element: u32,
  end_element: u32,
}

fn absorb_unaligned(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, run: UnalignedRun,
                    q: u32) {
  let element = 4u * q + vec4<u32>(0u, 1u, 2u, 3u);
  let valid = (element >= vec4<u32>(run.first_element)) & (element < vec4<u32>(run.end_element));
  var w = vec4<f32>(1.0);
  if (HAS_WEIGHT) {
    // Lanes outside the run read class 0's weight (in bounds) and are masked.
    let c = select(vec4<u32>(0u), element - run.row_start, valid);
    w = vec4<f32>(class_weights[c.x], class_weights[c.y], class_weights[c.z], class_weights[c.w]);
  }
  w = select(vec4<f32>(0.0), w, valid);
  var t = vec4<f32>(0.0);
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    t = target_probability[q];
  }
  absorb4(state, errors, run.walk, log_space4(stored_input4(q)), w, t, valid);
}

fn scan_unaligned(row: u32, first: u32, end: u32) -> RowState {
  var state = empty_state();
  var errors = SumErrors(0.0, 0.0, 0.0, 0.0, 0.0);
  let row_start = row * params.classes;
  let run = UnalignedRun(ChunkWalk(ChunkOfRow(row, first, end), 0u, 1.0 - params.label_smoothing,
                                   params.label_smoothing / f32(params.classes)),
                         row_start, row_start + first, row_start + end);
  let first_vec4 = run.first_element / 4u;
  let end_vec4 = (run.end_element + 3u) / 4u;
  var q = first_vec4;
  if (BLOCKED_WALK) {
    absorb_unaligned(&state, &errors, run, q);
    q++;
    // Whole vec4s, up to the last (masked) one.
    for (; q + BLOCK_VEC4S < end_vec4; q += BLOCK_VEC4S) {
      absorb_block(&state, &errors, log_space4(stored_input4(q)), log_space4(stored_input4(q + 1u)),
                   log_space4(stored_input4(q + 2u)), log_space4(stored_input4(q + 3u)));
    }
  }
  for (; q < end_vec4; q++) {
    absorb_unaligned(&state, &errors, run, q);
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
      return log_space(stored_input4(element / 4u)[element % 4u]);
    }
  }
  return 0.0;
}
