/** Binding a kernel's resources and dispatching it over a number of invocations. */
import { foldWorkgroups } from '../plan.js';
import { isGpuBuffer } from '../tensor-data.js';
import { WORKGROUP_SIZE, type Kernel } from './pipelines.js';

/** A binding: a whole buffer, or a range of one. */
export type Resource = GPUBuffer | GPUBufferBinding;

/** Binds `resources` to bindings 0, 1, 2, ... of `kernel` and dispatches `invocations` invocations. */
export function dispatch(device: GPUDevice, pass: GPUComputePassEncoder, kernel: Kernel, invocations: number,
  resources: readonly Resource[]): void {
  if (invocations === 0) return;
  const bindGroup = device.createBindGroup({
    label: kernel.label,
    layout: kernel.layout,
    entries: resources.map((resource, binding) => ({
      binding,
      resource: isGpuBuffer(resource) ? { buffer: resource } : resource,
    })),
  });
  const [x, y] = foldWorkgroups(invocations, WORKGROUP_SIZE, device.limits.maxComputeWorkgroupsPerDimension);
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y);
}
