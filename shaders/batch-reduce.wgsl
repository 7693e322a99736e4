// Batch reduction: sums per-row losses and 'mean' denominator weights in a fixed order. (The host
// joins lib/float-bits.wgsl and lib/compensated-sum.wgsl before it.)
//
// Algorithm: invocation i sums elements [i * chunk, (i + 1) * chunk) sequentially with Neumaier
// compensation and writes one partial; the host repeats levels until one partial is left. The order
// of every addition depends only on the shape, never on scheduling, so reruns are bit-identical (no
// floating-point atomics). On the last level `divide` turns the sum into a mean: by the summed
// weights (cross-entropy's 'mean') or by a fixed count (binary cross-entropy's mean over elements).
// Dispatch: one invocation per output partial, 2-D folded like row-stats.
//
// The inputs are read as vec4s (chunk is a multiple of 4) and added one element at a time, in the
// same order as scalar reads would (the same bits): where SIMD lanes are emulated (SwiftShader)
// every load is a gather, and four elements a load are fewer gathers. Lanes past `count` (the host pads the buffers to
// whole vec4s) add -0, which leaves every sum as it is (+0 would turn a sum of -0 into +0).
//
// Bindings:
//   params     : count of input elements, elements per invocation, how to divide at the end
//   in_loss    : loss values to sum (per-row losses on the first level, partial sums after), as vec4s
//   in_weight  : denominator weights to sum, same layout as in_loss
//   out_loss   : out, partial sums of in_loss (on the last level: the reduced loss)
//   out_weight : out, partial sums of in_weight

const DIVIDE_BY_WEIGHT: u32 = 1u;
const DIVIDE_BY_COUNT: u32 = 2u;

struct Params {
  count: u32,
  chunk: u32,
  divide: u32,          // 0: keep the sum; DIVIDE_BY_WEIGHT; DIVIDE_BY_COUNT
  denominator: f32,     // the count, for DIVIDE_BY_COUNT
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> in_loss: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> in_weight: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out_loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_weight: array<f32>;

override workgroup_size: u32 = 64u;


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
  var loss = 0.0;
  var loss_error = 0.0;
  var weight = 0.0;
  var weight_error = 0.0;
  let nothing = vec4<f32>(bitcast<f32>(NEGATIVE_ZERO_BITS));
  for (var i = first; i < end; i += 4u) {
    let counted = vec4<u32>(i) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(end);
    add_compensated4(&loss, &loss_error, select(nothing, in_loss[i / 4u], counted));
    add_compensated4(&weight, &weight_error, select(nothing, in_weight[i / 4u], counted));
  }
  var loss_sum = compensated(loss, loss_error);
  let weight_sum = compensated(weight, weight_error);
  if (params.divide == DIVIDE_BY_WEIGHT) {
    // A 'mean' over a total weight of 0 is undefined: NaN (PyTorch's 0 / 0), not +inf when z-loss
    // or a rounding leaves a numerator above 0.
    loss_sum = select(loss_sum / weight_sum, quiet_nan(), weight_sum == 0.0);
  } else if (params.divide == DIVIDE_BY_COUNT) {
    loss_sum = loss_sum / params.denominator;
  }
  out_loss[index] = loss_sum;
  out_weight[index] = weight_sum;
}
