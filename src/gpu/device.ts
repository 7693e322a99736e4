/** A device for callers that do not bring one. */

/**
 * Requests an adapter and a device from `navigator.gpu`, with the adapter's largest buffers rather
 * than the defaults, so large vocabularies fit.
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
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
}
