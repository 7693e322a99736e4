/**
 * A WebGPU device in Node through the `webgpu` package (Dawn). On machines without a GPU it runs on
 * SwiftShader, the CPU Vulkan driver shipped with Chromium. When no adapter can be found the GPU
 * tests are skipped locally but fail under CI (CI=true), so a broken setup never passes silently.
 */
import { existsSync } from 'node:fs';
import { create } from 'webgpu';

/** Chromium's SwiftShader Vulkan driver (Debian's `chromium` package). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export const inCI = Boolean(process.env.CI) && process.env.CI !== 'false';

let devicePromise: Promise<GPUDevice | null> | undefined;
/**
 * The `webgpu` package's GPU object. It must stay reachable while its devices live: once garbage
 * collected, Dawn's instance goes with it and the process aborts (std::system_error).
 */
let nodeGpu: GPU | undefined;

async function requestNodeDevice(): Promise<GPUDevice | null> {
  // Point the Vulkan loader at SwiftShader unless the environment chose a driver already.
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  nodeGpu ??= create([]);
  const adapter = await nodeGpu.requestAdapter();
  if (adapter === null) return null;
  const device = await adapter.requestDevice({
    // Subgroups where offered, so tests can run the kernels' subgroup form (CrossEntropy's opt-in).
    requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  device.addEventListener('uncapturederror', (event) => {
    throw new Error(`uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  return device;
}

/** The shared test device, or null when no adapter exists (only allowed outside CI). */
export function nodeDevice(): Promise<GPUDevice | null> {
  devicePromise ??= requestNodeDevice();
  return devicePromise;
}

/** The shared device; throws under CI when there is none. */
export async function requireDevice(): Promise<GPUDevice | null> {
  const device = await nodeDevice();
  if (device === null && inCI) {
    throw new Error('No WebGPU adapter found under CI: install Chromium (SwiftShader) and libvulkan1');
  }
  return device;
}

/**
 * A second device with WebGPU's default limits (128 MiB per storage binding, 256 MiB per buffer),
 * to exercise tensors processed in pieces and streamed from the host with arrays of a few hundred MB.
 */
export async function requireDefaultLimitsDevice(): Promise<GPUDevice | null> {
  const shared = await requireDevice();
  if (shared === null) return null;
  const adapter = await nodeGpu!.requestAdapter();
  return adapter!.requestDevice();
}

/** Destroys the shared device, if one was made (called once per test file by test/setup.ts). */
export async function releaseNodeDevice(): Promise<void> {
  if (devicePromise === undefined) return;
  const device = await devicePromise;
  devicePromise = undefined;
  device?.destroy();
}
