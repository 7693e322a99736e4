// Roofline (copy) of 16-bit values: the floor for forward + gradient over float16 or bfloat16
// logits whose gradient is written in the same dtype. Reads every value once and writes it once,
// two to a 32-bit word (2 bytes a value), as the words they are packed in: a copy of a value is a
// copy of its bits, whatever its format, so one kernel serves both dtypes.
//
// Algorithm: as roofline-copy.wgsl: invocation i copies its own contiguous run of `chunk` vec4s of
// words, STEP_VEC4S a loop step. No barriers. The host picks `chunk` by timing.
// Dispatch: one invocation per chunk, 2-D folded.
//
// Bindings:
//   params      : count of vec4s of words, vec4s per invocation
//   source      : the values, packed two per u32, as vec4s of words
//   destination : out, the same words

struct Params {
  count: u32,
  chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> destination: array<vec4<u32>>;

override workgroup_size: u32 = 64u;
const STEP_VEC4S: u32 = 4u;

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
    destination[i] = source[i];
    destination[i + 1u] = source[i + 1u];
    destination[i + 2u] = source[i + 2u];
    destination[i + 3u] = source[i + 3u];
  }
  for (; i < end; i++) {
    destination[i] = source[i];
  }
}
