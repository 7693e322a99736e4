// Roofline (read): the floor for a forward pass. Reads every value once and sums it.
// With APPLY_EXP, the exp floor: it sums exp(value) instead, the least arithmetic any softmax does
// per logit, which the roofline leaves out (on a GPU it hides under the memory traffic; on a CPU
// adapter it may not).
//
// Algorithm: invocation i sums its own contiguous run of `chunk` vec4s, STEP_VEC4S loads a loop
// step, and writes one partial; a second dispatch of the same kernel sums the partials. No
// barriers, no shared memory: on SwiftShader (a CPU) a workgroup barrier costs far more than the
// arithmetic it guards, and a loop step's own bookkeeping (its lane masks, its index) about as much
// as one load, so four loads a step took 0.7-0.85x the time of one. The host picks `chunk` (how
// many invocations share the values) by timing a few on the adapter at hand.
// Dispatch: one invocation per chunk, 2-D folded.
//
// Bindings:
//   params   : count of vec4s to read, vec4s per invocation
//   source   : the values, as vec4s
//   partials : out, one sum per invocation

struct Params {
  count: u32,
  chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> partials: array<vec4<f32>>;

override workgroup_size: u32 = 64u;
override APPLY_EXP: bool = false;
const STEP_VEC4S: u32 = 4u;

fn term(v: vec4<f32>) -> vec4<f32> {
  if (APPLY_EXP) {
    return exp(v);
  }
  return v;
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
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + STEP_VEC4S <= end; i += STEP_VEC4S) {
    sum += (term(source[i]) + term(source[i + 1u])) + (term(source[i + 2u]) + term(source[i + 3u]));
  }
  for (; i < end; i++) {
    sum += term(source[i]);
  }
  partials[index] = sum;
}
