// Roofline (read): the floor for a forward pass. Reads every value once and sums it.
// With APPLY_EXP, the exp floor: it sums exp(value) instead, the least arithmetic any softmax does
// per logit, which the roofline leaves out (on a GPU it hides under the memory traffic; on a CPU
// adapter it may not).
//
// Algorithm: invocation i sums its own contiguous run of `chunk` vec4s and writes one partial; a
// second dispatch of the same kernel sums the partials. No barriers, no shared memory: on
// SwiftShader (a CPU) a workgroup barrier costs far more than the arithmetic it guards.
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
  for (var i = first; i < end; i++) {
    var v = source[i];
    if (APPLY_EXP) {
      v = exp(v);
    }
    sum += v;
  }
  partials[index] = sum;
}
