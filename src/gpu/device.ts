/** A device for callers that do not bring one. */

/**
 * Requests an adapter and a device from `navigator.gpu`, with the adapter's largest buffers rather
 * than the defaults, so large vocabularies fit, and its subgroups if it has them.
 */
export async function requestDevice(): Promise<GPUDevice> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu === undefined) {
    throw new Error('CrossEntropy.create: WebGPU is not available here (no navigator.gpu); pass { device } '
      + 'from a WebGPU implementation such as the `webgpu` package in Node');
  }
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error('CrossEntropy.create: navigator.gpu.requestAdapter() found no adapter');
  return adapter.requestDevice({
    label: 'cross-entropy',
    // Subgroups where offered: the row kernels decide whether they pay (see subgroups.ts).
    requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
}
