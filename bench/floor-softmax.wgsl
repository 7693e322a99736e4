// The softmax floors: the least arithmetic a one-pass softmax does per value, on top of the read
// (or copy) roofline. They take the values as one long row and compute its log-sum-exp online: a
// running max, and the sum of exp(value - max), rescaled whenever the max moves (at most once per
// block of four vec4s, as ours moves it). The plain floor does nothing else. The exact floor
// (EXACT) adds what ours does to stay within the tolerances of docs/accuracy.md on confident rows
// and long sums: the sum is kept as its excess over the max's own 1, values at the max are counted
// apart (a 1 would round away the digits of a small excess), and the excess is a compensated sum.
// Neither has row boundaries, targets or merges by row, which ours adds. Finite values only.
//
// Algorithm: `partial_states`: invocation i walks its own contiguous run of `chunk` vec4s (as
// roofline-read.wgsl) and writes its state; `merge_states`: one invocation merges every partial
// state into the log-sum-exp; with the gradient, `write_softmax`: invocation i writes
// exp(value - log-sum-exp) over its run (as roofline-copy.wgsl).
// Dispatch: one invocation per chunk, 2-D folded; `merge_states` one invocation.
//
// Bindings:
//   params      : count of vec4s to read, vec4s per invocation
//   source      : the values as vec4s (merge_states: the partial states)
//   destination : out; partial_states: one (max, sum or excess, 1, 0) per invocation;
//                 merge_states: (log-sum-exp, 0, 0, 0); write_softmax: exp(value - log-sum-exp)
//   statistics  : (write_softmax) merge_states' output

struct Params {
  count: u32,
  chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> destination: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> statistics: array<vec4<f32>>;

override workgroup_size: u32 = 64u;
override EXACT: bool = false;
const STEP_VEC4S: u32 = 4u;

// A `let`, not a constant expression: WGSL rejects -inf where it is evaluated at compile time.
const NEGATIVE_INFINITY_BITS: u32 = 0xff800000u;

fn negative_infinity() -> f32 {
  let bits = NEGATIVE_INFINITY_BITS;
  return bitcast<f32>(bits);
}

// Invocation `index` of a 2-D folded dispatch.
fn invocation(group: vec3<u32>, groups: vec3<u32>, lane: u32) -> u32 {
  return (group.y * groups.x + group.x) * workgroup_size + lane;
}

fn largest(v: vec4<f32>) -> f32 {
  return max(max(v.x, v.y), max(v.z, v.w));
}

fn total(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

// The running state of a run of values: its max, and the sum of exp(value - max) (EXACT: that sum
// less the max's own 1, with the rounding error of its additions).
struct OnlineState {
  max_value: f32,
  sum: f32,
  error: f32,
}

// The state of no values: a sum of 0 (EXACT: an excess of -1).
fn empty_state() -> OnlineState {
  return OnlineState(negative_infinity(), select(0.0, -1.0, EXACT), 0.0);
}

// Adds x to the sum, and its rounding error to the error (Neumaier's compensated sum, as ours).
fn add_compensated(state: ptr<function, OnlineState>, x: f32) {
  let sum = (*state).sum;
  let t = sum + x;
  (*state).error += select((x - t) + sum, (sum - t) + x, abs(sum) >= abs(x));
  (*state).sum = t;
}

// exp(v - m) of the values below the max `m`, 0 for those at it.
fn below_max(v: vec4<f32>, m: vec4<f32>) -> vec4<f32> {
  return exp(select(v - m, vec4<f32>(negative_infinity()), v == m));
}

fn at_max(v: vec4<f32>, m: vec4<f32>) -> vec4<f32> {
  return select(vec4<f32>(0.0), vec4<f32>(1.0), v == m);
}

// Four vec4s into the state: the max moves at most once, to the largest of them.
fn absorb_block(state: ptr<function, OnlineState>, a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) {
  let raised = max((*state).max_value, largest(max(max(a, b), max(c, d))));
  let scale = exp((*state).max_value - raised);
  let m = vec4<f32>(raised);
  if (EXACT) {
    // Where the max moves, the old max's own 1 joins the excess and all of it shrinks; the new
    // max's own 1 is implicit, so one value at the new max is not counted.
    let moved = raised > (*state).max_value;
    (*state).sum = select((*state).sum, (((*state).sum + (*state).error) + 1.0) * scale, moved);
    (*state).error = select((*state).error, 0.0, moved);
    (*state).max_value = raised;
    let exps = (below_max(a, m) + below_max(b, m)) + (below_max(c, m) + below_max(d, m));
    let ties = (at_max(a, m) + at_max(b, m)) + (at_max(c, m) + at_max(d, m));
    add_compensated(state, total(exps) + (total(ties) - select(0.0, 1.0, moved)));
  } else {
    (*state).sum *= scale;
    (*state).max_value = raised;
    (*state).sum += total((exp(a - m) + exp(b - m)) + (exp(c - m) + exp(d - m)));
  }
}

@compute @workgroup_size(workgroup_size)
fn partial_states(@builtin(workgroup_id) group: vec3<u32>,
                  @builtin(num_workgroups) groups: vec3<u32>,
                  @builtin(local_invocation_index) lane: u32) {
  let index = invocation(group, groups, lane);
  let first = index * params.chunk;
  if (first >= params.count) {
    return;
  }
  let end = min(first + params.chunk, params.count);
  var state = empty_state();
  var i = first;
  for (; i + STEP_VEC4S <= end; i += STEP_VEC4S) {
    absorb_block(&state, source[i], source[i + 1u], source[i + 2u], source[i + 3u]);
  }
  // The tail, a vec4 at a time, with -inf for the rest of a block: exp(-inf - max) = 0.
  let none = vec4<f32>(negative_infinity());
  for (; i < end; i++) {
    absorb_block(&state, source[i], none, none, none);
  }
  // The third value marks a written state: invocations past the end and the padding between
  // binding pieces leave zeros.
  destination[index] = vec4<f32>(state.max_value, state.sum + state.error, 1.0, 0.0);
}

// log(1 + x) to f32's precision also for tiny x (Goldberg's correction), where x is the answer.
fn log_one_plus(x: f32) -> f32 {
  let u = 1.0 + x;
  return select(log(u) * (x / (u - 1.0)), x, u == 1.0);
}

@compute @workgroup_size(workgroup_size)
fn merge_states(@builtin(workgroup_id) group: vec3<u32>,
                @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_index) lane: u32) {
  if (invocation(group, groups, lane) != 0u) {
    return;
  }
  var state = empty_state();
  for (var i = 0u; i < params.count; i++) {
    let partial = source[i];
    if (partial.z == 0.0) {
      continue;
    }
    let raised = max(state.max_value, partial.x);
    if (EXACT) {
      // The larger max's own 1 stays implicit; the other state's 1 joins the excess.
      if (partial.x > state.max_value) {
        state.sum = (state.sum + 1.0) * exp(state.max_value - raised) + partial.y;
      } else {
        state.sum += (partial.y + 1.0) * exp(partial.x - raised);
      }
    } else {
      state.sum = state.sum * exp(state.max_value - raised) + partial.y * exp(partial.x - raised);
    }
    state.max_value = raised;
  }
  let log_sum = select(log(state.sum), log_one_plus(state.sum), EXACT);
  destination[0] = vec4<f32>(state.max_value + log_sum, 0.0, 0.0, 0.0);
}

@compute @workgroup_size(workgroup_size)
fn write_softmax(@builtin(workgroup_id) group: vec3<u32>,
                 @builtin(num_workgroups) groups: vec3<u32>,
                 @builtin(local_invocation_index) lane: u32) {
  let first = invocation(group, groups, lane) * params.chunk;
  if (first >= params.count) {
    return;
  }
  let end = min(first + params.chunk, params.count);
  let lse = vec4<f32>(statistics[0].x);
  var i = first;
  for (; i + STEP_VEC4S <= end; i += STEP_VEC4S) {
    destination[i] = exp(source[i] - lse);
    destination[i + 1u] = exp(source[i + 1u] - lse);
    destination[i + 2u] = exp(source[i + 2u] - lse);
    destination[i + 3u] = exp(source[i + 3u] - lse);
  }
  for (; i < end; i++) {
    destination[i] = exp(source[i] - lse);
  }
}
