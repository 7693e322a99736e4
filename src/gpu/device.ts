/**
 * A device for callers that do not bring one: from `navigator.gpu` where the host has it (browsers,
 * Deno), else in Node from the `webgpu` package (Dawn), an optional peer dependency.
 */

/**
 * The `webgpu` package's name, in a variable: a bundler building for the browser then leaves the
 * import alone instead of trying to bundle Dawn's native addon (which browsers never reach).
 */
const NODE_WEBGPU = 'webgpu';

/** Where to point the Vulkan loader on Linux without a GPU (Debian's `chromium` package installs it). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * The `webgpu` package's GPU object, made once and kept for the life of the process. Dawn aborts
 * the process when that object is collected while anything made from it (an adapter, a device even
 * once destroyed, a buffer) is still reachable; a CrossEntropy cannot know when its caller drops the
 * last of those (`ce.device`, a result's buffers), so it never lets the object go.
 */
let nodeGpu: Promise<GPU> | undefined;

function isNode(): boolean {
  const host = globalThis as { process?: { versions?: { node?: unknown } } };
  return typeof host.process?.versions?.node === 'string';
}

async function importNodeGpu(): Promise<GPU> {
  let webgpu: { create(options: string[]): GPU };
  try {
    webgpu = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_WEBGPU);
  } catch (error) {
    throw new Error('CrossEntropy.create: this Node has no WebGPU of its own and the `webgpu` package (Dawn for '
      + 'Node, an optional peer dependency) could not be imported: `npm install webgpu`, or pass { device }',
    { cause: error });
  }
  return webgpu.create([]);
}

/** This host's WebGPU entry point, and where it came from (for the error when it has no adapter). */
async function hostGpu(): Promise<{ gpu: GPU; from: 'navigator' | 'webgpu' }> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu !== undefined) return { gpu, from: 'navigator' };
  if (!isNode()) {
    throw new Error('CrossEntropy.create: WebGPU is not available here (no navigator.gpu): use a browser with '
      + 'WebGPU enabled, or pass { device }');
  }
  // A failed import is not kept: the caller may install the package and try again.
  nodeGpu ??= importNodeGpu().catch((error: unknown) => {
    nodeGpu = undefined;
    throw error;
  });
  return { gpu: await nodeGpu, from: 'webgpu' };
}

function noAdapter(from: 'navigator' | 'webgpu'): Error {
  if (from === 'navigator') {
    return new Error('CrossEntropy.create: navigator.gpu.requestAdapter() found no adapter (WebGPU may be disabled '
      + 'or this GPU blocklisted); pass { device } to use one you have');
  }
  return new Error('CrossEntropy.create: the `webgpu` package found no GPU adapter. On Linux without a GPU, point '
    + `the Vulkan loader at a software driver such as Chromium's SwiftShader: VK_ICD_FILENAMES=${SWIFTSHADER_ICD} `
    + '(it needs libvulkan1); or pass { device }');
}

/**
 * Requests an adapter and a device, with the adapter's largest buffers rather than the defaults, so
 * large vocabularies fit, and its subgroups if it has them.
 */
export async function requestDevice(): Promise<GPUDevice> {
  const { gpu, from } = await hostGpu();
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw noAdapter(from);
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
