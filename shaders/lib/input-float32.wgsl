// The input stored as f32: one value per 32-bit word.
//
// Needs nothing from its includer. A kernel joins this file or lib/input-half.wgsl (the input's
// dtype chooses, src/gpu/shader-modules.ts) and reads the input only through the two functions
// below, so that the scans and the gradient are the same code for every dtype.
//
// Bindings (of the kernels this file is part of):
//   logits  : the input, row-major [N, C, d1..dk]
//   logits4 : the same as vec4s (an entry point uses one view or the other)

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> logits4: array<vec4<f32>>;

// The value at flat element `at`.
fn stored_input(at: u32) -> f32 {
  return logits[at];
}

// Elements 4 at .. 4 at + 3.
fn stored_input4(at: u32) -> vec4<f32> {
  return logits4[at];
}
