// Roofline (read) of 16-bit values: the floor for a forward pass over float16 or bfloat16 logits.
// Reads every value once, two to a 32-bit word (2 bytes a value), and sums what they decode to:
// float16 through unpack2x16float, bfloat16 as the top half of an f32 (BFLOAT16). Both are exact;
// of the exact float16 decodes tried on SwiftShader (the core builtin, and integer operations
// that move the exponent's bias with selects for subnormals and infinities), the builtin was the
// faster (docs/performance.md, 16-bit inputs).
//
// Algorithm: as roofline-read.wgsl (whose comment says why): invocation i sums its own contiguous
// run of `chunk` vec4s of words, STEP_VEC4S loads a loop step, and writes one partial; the f32
// read kernel then sums the partials. A vec4 of words holds eight values. No barriers. The host
// picks `chunk` by timing.
// Dispatch: one invocation per chunk, 2-D folded.
//
// Bindings:
//   params   : count of vec4s of words to read, vec4s per invocation
//   source   : the values, packed two per u32 (the first in the low half), as vec4s of words
//   partials : out, one f32 sum per invocation

struct Params {
  count: u32,
  chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> partials: array<vec4<f32>>;

override workgroup_size: u32 = 64u;
override BFLOAT16: bool = false;
const STEP_VEC4S: u32 = 4u;

// The eight values of four words, summed to four: each lane the sum of two values.
fn term(words: vec4<u32>) -> vec4<f32> {
  if (BFLOAT16) {
    return bitcast<vec4<f32>>(words << vec4<u32>(16u)) + bitcast<vec4<f32>>(words & vec4<u32>(0xffff0000u));
  }
  return vec4<f32>(unpack2x16float(words.x), unpack2x16float(words.y))
    + vec4<f32>(unpack2x16float(words.z), unpack2x16float(words.w));
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
