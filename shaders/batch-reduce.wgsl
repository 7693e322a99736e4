// Batch reduction: sums per-row losses and 'mean' denominator weights in a fixed order.
//
// Algorithm: invocation i sums elements [i * chunk, (i + 1) * chunk) sequentially with Neumaier
// compensation and writes one partial; the host repeats levels until one partial is left. The order
// of every addition depends only on the shape, never on scheduling, so reruns are bit-identical (no
// floating-point atomics). On the last level `divide` turns the sum into a mean: by the summed
// weights (cross-entropy's 'mean') or by a fixed count (binary cross-entropy's mean over elements).
// Dispatch: one invocation per output partial, 2-D folded like row-stats.
//
// Bindings:
//   params     : count of input elements, elements per invocation, how to divide at the end
//   in_loss    : loss values to sum (per-row losses on the first level, partial sums after)
//   in_weight  : denominator weights to sum, same layout as in_loss
//   out_loss   : out, partial sums of in_loss (on the last level: the reduced loss)
//   out_weight : out, partial sums of in_weight

const LARGEST_FINITE_F32_BITS: u32 = 0x7f7fffffu;
const QUIET_NAN_BITS: u32 = 0x7fc00000u;
const DIVIDE_BY_WEIGHT: u32 = 1u;
const DIVIDE_BY_COUNT: u32 = 2u;

struct Params {
  count: u32,
  chunk: u32,
  divide: u32,          // 0: keep the sum; DIVIDE_BY_WEIGHT; DIVIDE_BY_COUNT
  denominator: f32,     // the count, for DIVIDE_BY_COUNT
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> in_loss: array<f32>;
@group(0) @binding(2) var<storage, read> in_weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_weight: array<f32>;

override workgroup_size: u32 = 64u;

// A running sum with the rounding error of each addition kept aside (Neumaier's variant of Kahan).
struct CompensatedSum {
  sum: f32,
  error: f32,
}

fn is_finite(x: f32) -> bool {
  return abs(x) <= bitcast<f32>(LARGEST_FINITE_F32_BITS);
}

fn add(acc: CompensatedSum, x: f32) -> CompensatedSum {
  let total = acc.sum + x;
  if (!is_finite(total)) {
    // inf and NaN must propagate as they are; their "rounding error" would turn inf into NaN.
    return CompensatedSum(total, 0.0);
  }
  var lost: f32;
  if (abs(acc.sum) >= abs(x)) {
    lost = (acc.sum - total) + x;
  } else {
    lost = (x - total) + acc.sum;
  }
  return CompensatedSum(total, acc.error + lost);
}

fn value(acc: CompensatedSum) -> f32 {
  if (!is_finite(acc.sum)) {
    return acc.sum;
  }
  return acc.sum + acc.error;
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = (group.y * groups.x + group.x) * workgroup_size + lane;
  let first = index * params.chunk;
  if (first >= params.count) {
    return;
  }
  let end = min(first + params.chunk, params.count);
  var loss = CompensatedSum(0.0, 0.0);
  var weight = CompensatedSum(0.0, 0.0);
  for (var i = first; i < end; i++) {
    loss = add(loss, in_loss[i]);
    weight = add(weight, in_weight[i]);
  }
  var loss_sum = value(loss);
  let weight_sum = value(weight);
  if (params.divide == DIVIDE_BY_WEIGHT) {
    // A 'mean' over a total weight of 0 is undefined: NaN (PyTorch's 0 / 0), not +inf when z-loss
    // or a rounding leaves a numerator above 0.
    let nan_bits = QUIET_NAN_BITS;
    loss_sum = select(loss_sum / weight_sum, bitcast<f32>(nan_bits), weight_sum == 0.0);
  } else if (params.divide == DIVIDE_BY_COUNT) {
    loss_sum = loss_sum / params.denominator;
  }
  out_loss[index] = loss_sum;
  out_weight[index] = weight_sum;
}
