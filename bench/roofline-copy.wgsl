// Roofline (copy): the floor for forward + gradient. Reads every value once and writes it once.
// With APPLY_EXP, the exp floor: it writes exp(value), the least any gradient pass computes per logit.
//
// Algorithm: invocation i copies its own contiguous run of `chunk` vec4s, STEP_VEC4S a loop step
// (as roofline-read.wgsl, whose comment says why). No barriers. The host picks `chunk` by timing.
// Dispatch: one invocation per chunk, 2-D folded.
//
// Bindings:
//   params      : count of vec4s, vec4s per invocation
//   source      : the values, as vec4s
//   destination : out, the same values

struct Params {
  count: u32,
  chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> destination: array<vec4<f32>>;

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
  var i = first;
  for (; i + STEP_VEC4S <= end; i += STEP_VEC4S) {
    destination[i] = term(source[i]);
    destination[i + 1u] = term(source[i + 1u]);
    destination[i + 2u] = term(source[i + 2u]);
    destination[i + 3u] = term(source[i + 3u]);
  }
  for (; i < end; i++) {
    destination[i] = term(source[i]);
  }
}
