/**
 * The compute pipelines, created once per device and shared by every CrossEntropy on it. Each has an
 * explicit bind-group layout, a label, and a workgroup size given through an override constant.
 */
import rowStatsSource from '../../shaders/row-stats.wgsl?raw';
import rowLossSource from '../../shaders/row-loss.wgsl?raw';
import batchReduceSource from '../../shaders/batch-reduce.wgsl?raw';
import { ShaderStage } from './constants.js';

/** Invocations per workgroup: a multiple of every common SIMD width, and within every device's limit. */
export const WORKGROUP_SIZE = 64;

type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

/** A kernel's pipeline and the layout its bind groups are made with. */
export interface Kernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly label: string;
}

export interface Kernels {
  readonly rowStats: Kernel;
  readonly rowLoss: Kernel;
  readonly batchReduce: Kernel;
}

/** A shader that failed to compile: names the shader and the first error's line and column. */
export class ShaderCompilationError extends Error {
  constructor(shader: string, messages: readonly GPUCompilationMessage[]) {
    const errors = messages.filter((m) => m.type === 'error');
    const text = errors.map((m) => `${shader}.wgsl:${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
    super(`WGSL compilation of ${shader}.wgsl failed:\n${text}`);
    this.name = 'ShaderCompilationError';
  }
}

const cache = new WeakMap<GPUDevice, Promise<Kernels>>();

/** The kernels of a device, created on first use. */
export function kernelsFor(device: GPUDevice): Promise<Kernels> {
  let kernels = cache.get(device);
  if (kernels === undefined) {
    kernels = createKernels(device);
    cache.set(device, kernels);
    // A failed creation is not cached: a later call may try again (e.g. after a transient OOM).
    kernels.catch(() => cache.delete(device));
  }
  return kernels;
}

async function createKernels(device: GPUDevice): Promise<Kernels> {
  const [rowStats, rowLoss, batchReduce] = await Promise.all([
    createKernel(device, 'row-stats', rowStatsSource,
      ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage']),
    createKernel(device, 'row-loss', rowLossSource,
      ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage',
        'storage', 'storage', 'storage']),
    createKernel(device, 'batch-reduce', batchReduceSource,
      ['uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage']),
  ]);
  return { rowStats, rowLoss, batchReduce };
}

async function createKernel(
  device: GPUDevice, name: string, code: string, bindings: readonly BindingKind[],
): Promise<Kernel> {
  const label = `cross-entropy:${name}`;
  // The scope turns any creation error into a rejection here instead of an uncaptured device error.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code });
  const layout = device.createBindGroupLayout({
    label,
    entries: bindings.map((type, binding) => ({ binding, visibility: ShaderStage.COMPUTE, buffer: { type } })),
  });
  // Synchronous creation: Dawn's Node build was seen to abort the process (std::system_error) in
  // createComputePipelineAsync inside forked test workers, and pipelines are made once per device.
  const pipeline = device.createComputePipeline({
    label,
    layout: device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: 'main', constants: { workgroup_size: WORKGROUP_SIZE } },
  });
  const [error, info] = await Promise.all([device.popErrorScope(), module.getCompilationInfo()]);
  if (info.messages.some((m) => m.type === 'error')) throw new ShaderCompilationError(name, info.messages);
  if (error !== null) throw new Error(`${label}: pipeline creation failed: ${error.message}`);
  return { pipeline, layout, label };
}
