/** Kernel dispatches prepared once (bind group made, workgroups folded) and encoded many times. */
import { foldWorkgroups } from '../plan.js';
import { isGpuBuffer } from '../tensor-data.js';
import type { Kernel } from './pipelines.js';

/** A binding: a whole buffer, or a range of one. */
export type Resource = GPUBuffer | GPUBufferBinding;

/** A dispatch with its bind group: encoding it creates nothing. */
export interface PreparedDispatch {
  readonly kernel: Kernel;
  readonly bindGroup: GPUBindGroup;
  readonly groups: readonly [number, number];
}

/**
 * Binds `resources`, by binding name (exactly the kernel's), to `kernel` for `invocations`
 * invocations; null when there are none.
 */
export function prepareDispatch(device: GPUDevice, kernel: Kernel, invocations: number,
  resources: Readonly<Record<string, Resource>>): PreparedDispatch | null {
  const missing = [...kernel.bindings.keys()].filter((name) => !(name in resources));
  const unknown = Object.keys(resources).filter((name) => !kernel.bindings.has(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(`${kernel.label}: resources must name each binding once (missing: ${missing.join(', ') || 'none'}; `
      + `unknown: ${unknown.join(', ') || 'none'})`);
  }
  if (invocations === 0) return null;
  const bindGroup = device.createBindGroup({
    label: kernel.label,
    layout: kernel.layout,
    entries: Object.entries(resources).map(([name, resource]) => ({
      binding: kernel.bindings.get(name)!,
      resource: isGpuBuffer(resource) ? { buffer: resource } : resource,
    })),
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
