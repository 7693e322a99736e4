// The weight of a class: `weight[c]` when the problem has per-class weights, else 1.
//
// Needs from its includer: lib/row-common.wgsl (HAS_WEIGHT), joined before it.
//
// Bindings (of the kernels this file is part of):
//   weight : per-class weight [C] (read when HAS_WEIGHT)

@group(0) @binding(4) var<storage, read> weight: array<f32>;

fn class_weight(c: u32) -> f32 {
  if (HAS_WEIGHT) {
    return weight[c];
  }
  return 1.0;
}
