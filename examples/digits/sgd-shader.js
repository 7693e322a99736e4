// @ts-check
/**
 * The SGD update's WGSL. A JavaScript string rather than a `.wgsl` file, so that plain Node (no
 * bundler, no `?raw` import) and Vite load it alike.
 */
export const SGD_WGSL = /* wgsl */ `
// Plain SGD on one parameter tensor, in place: param[i] = param[i] - learning_rate * grad[i].
// Dispatch: one invocation per element, ceil(count / workgroup_size) workgroups on x.
//
// Bindings:
//   step  : the learning rate and the element count
//   param : the parameters (f32), updated in place
//   grad  : d(loss)/d(param) (f32), as ce.linearGpu left it; may be longer than count

struct Step {
  learning_rate: f32,
  count: u32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;

override workgroup_size: u32 = 64u;

@compute @workgroup_size(workgroup_size)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= step.count) {
    return;
  }
  param[i] = param[i] - step.learning_rate * grad[i];
}
`;
