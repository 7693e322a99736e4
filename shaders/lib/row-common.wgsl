// Shared by the row kernels (row-stats, row-loss, row-grad, row-loss-grad): the parameter block, the
// per-row state, constants, and the input transform. The structs the host also reads or writes
// (Params, RowState, RowSummary) are described for it in src/gpu/shader-structs.ts, which a test
// checks against the declarations here.
//
// Needs from its includer: lib/float-bits.wgsl and lib/compensated-sum.wgsl, joined before it.
//
// What kind of problem a pipeline computes is fixed by override constants, so that the compiler
// drops every branch the problem does not take from the per-element loops; sizes and values stay
// in the `params` uniform (binding 0 of every row kernel, declared here), so one pipeline serves
// every shape.
//
// A binding number means the same array in every row kernel; each kernel binds those it uses:
//   0 params     3 target_probability   6 row_loss     9 status
//   1 logits     4 weight               7 row_weight  10 grad
//   2 class_target  5 partials          8 row_summary 11 scale_input

override INPUT_KIND: u32 = 0u;              // 0 logits, 1 probabilities, 2 log-probabilities
override TARGET_KIND: u32 = 0u;             // 0 class indices, 1 class probabilities
override HAS_WEIGHT: bool = false;          // `weight` holds per-class weights (else all ones)
override NEED_SMOOTHING_SUM: bool = false;  // class indices with label smoothing (or row statistics)
override HAS_SOFTCAP: bool = false;         // logits pass through softcap * tanh(x / softcap)
override WRITE_SUMMARY: bool = true;        // row-loss keeps each row's summary (gradient, statistics)

const INPUT_LOGITS: u32 = 0u;
const INPUT_PROBABILITIES: u32 = 1u;
const TARGET_CLASS_INDEX: u32 = 0u;
const TARGET_PROBABILITIES: u32 = 1u;
const REDUCTION_MEAN: u32 = 0u;
const REDUCTION_SUM: u32 = 1u;
const ROW_USED: u32 = 0u;
const ROW_IGNORED: u32 = 1u;
const ROW_TARGET_ABSENT: u32 = 2u;   // out of range, or (for a vocabulary shard) in another shard
// PyTorch's BCELoss rule: log p is clamped below at -100 so that p = 0 gives a finite loss.
const LOG_PROBABILITY_FLOOR: f32 = -100.0;
// |x| beyond which tanh(x) rounds to +-1 in f32; clamping there keeps tanh away from inf / inf.
const TANH_SATURATION: f32 = 10.0;
// |u| below which capped_tanh sums tanh's series rather than trusting the GPU's tanh.
const TANH_SERIES_LIMIT: f32 = 0.3;

struct Params {
  rows: u32,               // rows of this piece (all N * d1 * ... * dk when it fits one binding)
  classes: u32,            // C (of this shard, for row statistics of a vocabulary shard)
  inner: u32,              // d1 * ... * dk: the stride between two classes of one row
  chunks: u32,             // chunks each row is cut into by row-stats
  chunk_len: u32,          // classes per chunk (the last may be shorter)
  ignore_index: i32,
  label_smoothing: f32,    // epsilon in [0, 1]
  class_offset: i32,       // the first class this shard holds (0 when unsharded)
  sharded: u32,            // 1: a target outside [offset, offset + C) belongs to another shard
  softcap: f32,            // the cap, when HAS_SOFTCAP (Gemma 2)
  z_loss: f32,             // coefficient of lse^2 added to each used row's loss (PaLM); 0: off
  reduction: u32,          // 0 mean, 1 sum, 2 none
  has_grad_output: u32,    // 1: `grad_output` holds the upstream gradient of each row ('none')
  first_row: u32,          // the piece's first row in the whole batch (bindings start there)
}

// Online softmax state of a run of classes; distances are measured from `max_value`, so every
// sum is of non-negative terms (no cancellation, whatever the magnitude of the logits).
// The sum of exponentials is kept without the max's own term, exp(0) = 1: a confident row's
// 1 - p_max and log-sum-exp are that small excess, whose digits would be lost beside the 1.
// The masses keep their rounding error beside them (a class's gradient may need the mass of all
// other classes, the mass minus a nearly equal weight).
struct RowState {
  max_value: f32,     // running max of x (0 for inputs that are already log-probabilities)
  excess_exp: f32,    // sum of exp(x - max_value) over the run's classes but one holding the max
                      // (sum_exp - 1; -1 for a run of no classes)
  smooth_dist: f32,   // sum of w_c * (max_value - x_c)
  smooth_mass: f32,   // sum of w_c
  target_dist: f32,   // sum of w_c * t'_c * (max_value - x_c)        (probability targets)
  target_mass: f32,   // sum of w_c * t'_c                            (probability targets)
  target_logit: f32,  // x_y, written by the chunk that holds class y (class-index targets)
  smooth_mass_error: f32,  // what rounding the sum to smooth_mass left out: the sum is the two added
  target_mass_error: f32,  // the same for target_mass
}

// The state of a run of no classes: excess -1 (a sum of 0) and, for logits, no max yet (-inf), so
// that the first values move the max as any later ones may (inputs that are log-probabilities
// already measure from 0).
fn empty_state() -> RowState {
  var state = RowState(0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (INPUT_KIND == INPUT_LOGITS) {
    state.max_value = negative_infinity();
  }
  return state;
}

// A whole row, merged from its chunks: what the loss, the gradient and row statistics need.
struct RowSummary {
  max_value: f32,
  log_norm: f32,      // log(sum exp(x - max)): lse = max_value + log_norm (0 for log-probabilities)
  smooth_dist: f32,
  smooth_mass: f32,
  target_dist: f32,
  target_mass: f32,
  target_logit: f32,
  target_weight: f32, // w[y] (class indices)
  kind: u32,          // ROW_USED, ROW_IGNORED or ROW_TARGET_ABSENT
  excess_exp: f32,    // sum_exp - 1 (see RowState): 1 - p_max = excess / (1 + excess)
  mass_error: f32,    // the rounding error of the mass the gradient uses (smooth_mass for class
                      // indices, target_mass for probability targets)
}

@group(0) @binding(0) var<uniform> params: Params;

// The rounding errors of a state's sums, carried beside it while a run of classes is scanned
// (lib/compensated-sum.wgsl): a row adds C small terms to each sum, and the error of a plain f32
// sum grows with C, past the loss tolerance of docs/accuracy.md for a few thousand classes with
// label smoothing, and further where a gradient cancels. Folded into the state when the scan ends.
struct SumErrors {
  excess_exp: f32,
  smooth_dist: f32,
  smooth_mass: f32,
  target_dist: f32,
  target_mass: f32,
}

// A compensated sum split into its value rounded to f32 and the part that rounding leaves out
// (Fast2Sum: exact, as the error is the smaller): x = sum + error = rounded + rest.
struct SplitSum {
  rounded: f32,
  rest: f32,
}

fn split_sum(sum: f32, error: f32) -> SplitSum {
  if (!is_finite(sum)) {
    return SplitSum(sum, 0.0);
  }
  let rounded = sum + error;
  return SplitSum(rounded, error - (rounded - sum));
}

// The sums take their errors in; the masses keep what rounding leaves out beside them.
fn fold_sum_errors(state: ptr<function, RowState>, errors: SumErrors) {
  (*state).excess_exp = compensated((*state).excess_exp, errors.excess_exp);
  (*state).smooth_dist = compensated((*state).smooth_dist, errors.smooth_dist);
  (*state).target_dist = compensated((*state).target_dist, errors.target_dist);
  let smooth_mass = split_sum((*state).smooth_mass, errors.smooth_mass);
  (*state).smooth_mass = smooth_mass.rounded;
  (*state).smooth_mass_error = smooth_mass.rest;
  let target_mass = split_sum((*state).target_mass, errors.target_mass);
  (*state).target_mass = target_mass.rounded;
  (*state).target_mass_error = target_mass.rest;
}

// When the max moves up by `shift` to a new value, the old max's term joins the excess and every
// term shrinks by exp(-shift) (the new max's own 1 is implicit): the excess is rescaled with its
// error folded in.
fn shift_excess(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, shift: f32) {
  (*state).excess_exp = (((*state).excess_exp + (*errors).excess_exp) + 1.0) * exp(-shift);
  (*errors).excess_exp = 0.0;
}

// When the max moves up by `shift`, every distance summed so far grows by it: the distance sums
// grow by shift times their (compensated) masses.
fn shift_distances(state: ptr<function, RowState>, errors: ptr<function, SumErrors>, shift: f32) {
  if (NEED_SMOOTHING_SUM) {
    add_compensated(&(*state).smooth_dist, &(*errors).smooth_dist,
                    grown_distance(shift, (*state).smooth_mass + (*errors).smooth_mass));
  }
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    add_compensated(&(*state).target_dist, &(*errors).target_dist,
                    grown_distance(shift, (*state).target_mass + (*errors).target_mass));
  }
}

// What a distance sum over classes of total mass `mass` grows by when the max moves up by `shift`:
// nothing for no shift (whatever the mass), and nothing for an empty run (mass 0), also by an
// infinite shift from its max of -inf.
fn grown_distance(shift: f32, mass: f32) -> f32 {
  return select(shift * mass, 0.0, shift == 0.0 || mass == 0.0);
}

// Merges state `b`, the classes after `a`'s, into `a`: both re-measured from the larger max (an
// exact log-sum-exp of the two), the masses summed with their errors. Merging in a fixed order
// keeps reruns bit-identical. An empty state (a max of -inf and no mass) merges as nothing.
fn merge_states(a: RowState, b: RowState) -> RowState {
  let target_logit = a.target_logit + b.target_logit;  // at most one run holds the target
  var merged = a;
  merged.target_logit = target_logit;
  var shift_a = 0.0;
  var shift_b = 0.0;
  if (INPUT_KIND == INPUT_LOGITS) {
    let m = max(a.max_value, b.max_value);
    // A state whose max equals the merged max needs no shift (this also keeps -inf runs NaN-free).
    shift_a = select(m - a.max_value, 0.0, a.max_value == m);
    shift_b = select(m - b.max_value, 0.0, b.max_value == m);
    merged.max_value = m;
    // The run holding the merged max keeps its excess; the other's whole sum (excess + 1) joins it.
    if (a.max_value == m) {
      merged.excess_exp = a.excess_exp + (b.excess_exp + 1.0) * exp(-shift_b);
    } else {
      merged.excess_exp = b.excess_exp + (a.excess_exp + 1.0) * exp(-shift_a);
    }
  }
  merged.smooth_dist = (a.smooth_dist + grown_distance(shift_a, a.smooth_mass))
                     + (b.smooth_dist + grown_distance(shift_b, b.smooth_mass));
  merged.target_dist = (a.target_dist + grown_distance(shift_a, a.target_mass))
                     + (b.target_dist + grown_distance(shift_b, b.target_mass));
  var smooth_mass = a.smooth_mass;
  var smooth_mass_error = a.smooth_mass_error + b.smooth_mass_error;
  add_compensated(&smooth_mass, &smooth_mass_error, b.smooth_mass);
  var target_mass = a.target_mass;
  var target_mass_error = a.target_mass_error + b.target_mass_error;
  add_compensated(&target_mass, &target_mass_error, b.target_mass);
  let smooth_sum = split_sum(smooth_mass, smooth_mass_error);
  merged.smooth_mass = smooth_sum.rounded;
  merged.smooth_mass_error = smooth_sum.rest;
  let target_sum = split_sum(target_mass, target_mass_error);
  merged.target_mass = target_sum.rounded;
  merged.target_mass_error = target_sum.rest;
  return merged;
}

// PyTorch's sums over log p take 0 * log p = 0 * -inf = NaN for a -inf input of weight 0 (label
// smoothing) or of target mass 0 (probability targets). The states measure distances from the max
// and fold them into masses when the max moves, which would lose that NaN: it is set here instead.
fn mark_zero_times_infinity(state: ptr<function, RowState>, zero_weight_at_minus_infinity: bool,
                            zero_target_at_minus_infinity: bool) {
  if (NEED_SMOOTHING_SUM && zero_weight_at_minus_infinity) {
    (*state).smooth_dist = quiet_nan();
  }
  if (TARGET_KIND == TARGET_PROBABILITIES && zero_target_at_minus_infinity) {
    (*state).target_dist = quiet_nan();
  }
}

// The value the loss treats as log p, before log-sum-exp is subtracted (for logits).
fn log_space(x: f32) -> f32 {
  if (INPUT_KIND == INPUT_PROBABILITIES) {
    return floored_log(x);
  }
  if (INPUT_KIND == INPUT_LOGITS && HAS_SOFTCAP) {
    return params.softcap * capped_tanh(x / params.softcap);
  }
  return x;
}

// log_space of four values.
fn log_space4(x: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(log_space(x.x), log_space(x.y), log_space(x.z), log_space(x.w));
}

// max(log p, -100), with p = 0 (or a subnormal the GPU flushed to 0) at the floor: a GPU's log(0)
// need not be -inf (SwiftShader's is about -87.3, the log of the smallest normal f32).
fn floored_log(p: f32) -> f32 {
  return select(max(log(p), LOG_PROBABILITY_FLOOR), LOG_PROBABILITY_FLOOR, p == 0.0);
}

// tanh(u), exact at +-inf (+-1) and NaN-preserving, and relatively exact near 0, where a softcapped
// logit is nearly the logit itself: a GPU's tanh there may be exact only in absolute terms
// (SwiftShader's tanh(3.9e-9) is 0 and its tanh(0.01) is 6e-6 off relatively). Below
// TANH_SERIES_LIMIT the odd Taylor series to u^13 (truncation under 1e-10 relatively); both are
// computed and one selected, as a data-dependent branch slows the scans (see lib/row-scan-vec4.wgsl).
// A NaN is found from its bits (is_nan): clamp(NaN) would otherwise make a finite softcap of it.
fn capped_tanh(u: f32) -> f32 {
  let u2 = u * u;
  let series = u * (1.0 + u2 * (-1.0 / 3.0 + u2 * (2.0 / 15.0 + u2 * (-17.0 / 315.0 + u2 * (62.0 / 2835.0
               + u2 * (-1382.0 / 155925.0 + u2 * (21844.0 / 6081075.0)))))));
  let built_in = tanh(clamp(u, -TANH_SATURATION, TANH_SATURATION));
  return select(select(built_in, series, abs(u) < TANH_SERIES_LIMIT), u, is_nan(u));
}


// Where class c of `row` lies in the flat input: (n * C + c) * inner + s.
fn element_index(row: u32, c: u32) -> u32 {
  let n = row / params.inner;
  let s = row % params.inner;
  return (n * params.classes + c) * params.inner + s;
}

// The class index of `row` relative to this shard (may be outside [0, C)).
fn local_class(y: i32) -> i32 {
  return y - params.class_offset;
}

// The row and the run of classes that invocation `index` of a (chunk, row) dispatch owns, in steps
// of `width` classes (1, or 4 for the vec4 kernels): steps [first, end) of that row.
struct ChunkOfRow {
  row: u32,
  first: u32,
  end: u32,
}

fn chunk_of_row(index: u32, width: u32) -> ChunkOfRow {
  let first = (index / params.rows) * params.chunk_len / width;
  return ChunkOfRow(index % params.rows, first, min(first + params.chunk_len / width, params.classes / width));
}

// The linear invocation index of a dispatch whose workgroups may be folded into a 2-D grid.
fn invocation_index(group: vec3<u32>, groups: vec3<u32>, lane: u32, size: u32) -> u32 {
  return (group.y * groups.x + group.x) * size + lane;
}
