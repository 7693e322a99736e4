// f32 values rounded to 16-bit values, float16 or bfloat16 (lib/input-half.wgsl's HALF_FORMAT), to
// nearest, ties to even, by lib/input-half.wgsl's half_words, and packed two per 32-bit word: the
// linear head's 16-bit dH and dW, summed in f32 and rounded once at the end.
//
// Element e of `dst` is the low half of word e >> 1 for an even e, the high half for an odd one.
// The values go to elements dst_offset .. dst_offset + count - 1. Where that range starts or ends
// inside a word (an odd dst_offset, an odd end), the word's other half is kept: the word's one
// writer reads it and writes it back beside the new half. Words written by other dispatches (a
// neighbouring range packed into the same buffer) are therefore safe to share.
// Dispatch: one invocation per pair of words (four elements) from the word holding dst_offset on,
// `pairs` of them, 2-D folded. No word has two writers.
//
// Bindings:
//   params : the count, and where the values start in `src` and go in `dst`, in elements of each
//            binding
//   src    : the f32 values, from src_offset
//   dst    : the 16-bit values, two per word, from element dst_offset
// (lib/input-half.wgsl's own bindings, at binding 1, are declared and not used.)

struct PackParams {
  count: u32,
  src_offset: u32,
  dst_offset: u32,
  pairs: u32,         // invocations that write: the words holding the values, two each
}

@group(0) @binding(0) var<uniform> params: PackParams;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

override workgroup_size: u32 = 64u;

// Writes the halves of `value` that are `inside` the range into word `at`, keeping the others.
fn store_word(at: u32, value: u32, inside: vec2<bool>) {
  let mask = select(0u, 0x0000ffffu, inside.x) | select(0u, 0xffff0000u, inside.y);
  if (mask == 0xffffffffu) {
    dst[at] = value;
  } else {
    dst[at] = (value & mask) | (dst[at] & ~mask);
  }
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = (group.y * groups.x + group.x) * workgroup_size + lane;
  if (index >= params.pairs) {
    return;
  }
  let word = (params.dst_offset >> 1u) + 2u * index;
  // The four elements' positions among the values (the one before the first wraps to a large
  // u32, outside like those past the last); outside ones read the last value, and are not stored.
  let at = vec4<u32>(2u * word) + vec4<u32>(0u, 1u, 2u, 3u) - vec4<u32>(params.dst_offset);
  let inside = at < vec4<u32>(params.count);
  let read = min(at, vec4<u32>(params.count - 1u)) + vec4<u32>(params.src_offset);
  let words = half_words(vec4<f32>(src[read.x], src[read.y], src[read.z], src[read.w]));
  store_word(word, words.x, inside.xy);
  // The second word holds no value past the range's last word.
  if (inside.z) {
    store_word(word + 1u, words.y, inside.zw);
  }
}
