/** Kernel dispatches prepared once (bind group made, workgroups folded) and encoded many times. */
import { foldWorkgroups } from '../plan.js';
import { isGpuBuffer } from '../tensor-data.js';
import type { Kernel } from './pipelines.js';

/** A binding: a whole buffer, or a range of one; null for a binding number the kernel leaves out. */
export type Resource = GPUBuffer | GPUBufferBinding | null;

/** A dispatch with its bind group: encoding it creates nothing. */
export interface PreparedDispatch {
  readonly kernel: Kernel;
  readonly bindGroup: GPUBindGroup;
  readonly groups: readonly [number, number];
}

/** Binds `resources` to bindings 0, 1, 2, ... of `kernel` for `invocations` invocations (null if none). */
export function prepareDispatch(device: GPUDevice, kernel: Kernel, invocations: number,
  resources: readonly Resource[]): PreparedDispatch | null {
  if (invocations === 0) return null;
  const bindGroup = device.createBindGroup({
    label: kernel.label,
    layout: kernel.layout,
    entries: resources.flatMap((resource, binding) => (resource === null ? [] : [{
      binding,
      resource: isGpuBuffer(resource) ? { buffer: resource } : resource,
    }])),
  });
  return { kernel, bindGroup, groups: foldWorkgroups(invocations, kernel.workgroupSize,
    device.limits.maxComputeWorkgroupsPerDimension) };
}

/** Encodes prepared dispatches, in order, into one compute pass. */
export function encodeDispatches(encoder: GPUCommandEncoder, label: string,
  dispatches: readonly (PreparedDispatch | null)[]): void {
  const pass = encoder.beginComputePass({ label });
  for (const d of dispatches) {
    if (d === null) continue;
    pass.setPipeline(d.kernel.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.groups[0], d.groups[1]);
  }
  pass.end();
}

/** Binds and dispatches at once (for calls that are not repeated). */
export function dispatch(device: GPUDevice, pass: GPUComputePassEncoder, kernel: Kernel, invocations: number,
  resources: readonly Resource[]): void {
  const d = prepareDispatch(device, kernel, invocations, resources);
  if (d === null) return;
  pass.setPipeline(d.kernel.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(d.groups[0], d.groups[1]);
}
