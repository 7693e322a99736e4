/**
 * Compute pipelines made from the kernel descriptions (kernels.ts), once per device and shared by
 * every CrossEntropy on it: an explicit bind-group layout from the description's bindings (their
 * numbers as the module declares them), a label, and a workgroup size given through an override
 * constant. Compile errors are reported against the file and line they come from.
 */
import { ShaderStage } from './constants.js';
import { KERNELS, type BindingKind, type KernelDescription, type KernelName } from './kernels.js';
import {
  declaredBindings, locate, mainFile, moduleFiles, moduleSource, type ShaderFile,
} from './shader-modules.js';
import type { Dtype } from '../types.js';

/** Invocations per workgroup: a multiple of every common SIMD width, and within every device's limit. */
export const WORKGROUP_SIZE = 64;

/** A kernel's pipeline, and what binding it by name needs. */
export interface Kernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly label: string;
  /** Invocations per workgroup (the `workgroup_size` override it was made with). */
  readonly workgroupSize: number;
  /** The binding number of each binding name. */
  readonly bindings: ReadonlyMap<string, number>;
}

/** What fixes a row pipeline's override constants (see lib/row-common.wgsl). */
export interface RowVariant {
  readonly input: 'logits' | 'probabilities' | 'logProbabilities';
  readonly targetKind: 'classIndex' | 'probabilities';
  readonly hasWeight: boolean;
  readonly needSmoothingSum: boolean;
  readonly hasSoftcap: boolean;
  /** Keep each row's summary (the gradient and row statistics read it). */
  readonly writeSummary: boolean;
  /** The gradient kernels overwrite the input with the gradient (lib/row-gradient.wgsl's GRAD_IN_PLACE). */
  readonly gradInPlace: boolean;
  /** How the input is stored (lib/input-float32.wgsl, or lib/input-half.wgsl and its HALF_FORMAT). */
  readonly dtype: Dtype;
}

/** What fixes the override constants of a 16-bit kernel that is not a row kernel (binaryHalf). */
export interface HalfVariant {
  readonly dtype: 'float16' | 'bfloat16';
  readonly gradDtype: Dtype;
}

/** What fixes the override constant of a kernel that only rounds to or reads a 16-bit format (packHalf). */
export interface HalfFormatVariant {
  readonly dtype: 'float16' | 'bfloat16';
}

/** What fixes a matmul pipeline's override constants (matmul.wgsl): which product it computes. */
export interface MatmulVariant {
  /** A is stored [K, M]: the product uses Aᵀ (A_TRANSPOSED). */
  readonly aTransposed: boolean;
  /** B is stored [P, K]: the product uses Bᵀ (B_TRANSPOSED). */
  readonly bTransposed: boolean;
  /** The product is added to what the output holds (ACCUMULATE). */
  readonly accumulate: boolean;
  /** A bias per output column is added (HAS_BIAS). */
  readonly bias: boolean;
  /** How A and B are stored and read through their words (A_STORAGE, B_STORAGE); 'float32' when absent. */
  readonly aStorage?: MatmulStorage;
  readonly bStorage?: MatmulStorage;
  /** The format of the 16-bit operands (HALF_FORMAT); absent when neither is 16-bit. */
  readonly halfFormat?: 'float16' | 'bfloat16';
}

/**
 * How matmul.wgsl reads an operand through its words: f32 values; 16-bit values (STORED_HALF); or
 * 16-bit values whose every run of four starts a word (STORED_HALF_ALIGNED).
 */
export type MatmulStorage = 'float32' | 'half' | 'halfAligned';

const MATMUL_STORAGE_CODES = { float32: 0, half: 1, halfAligned: 2 } as const;

/** Any variant a kernel is specialised by. */
export type KernelVariant = RowVariant | HalfVariant | HalfFormatVariant | MatmulVariant;

const INPUT_KIND_CODES = { logits: 0, probabilities: 1, logProbabilities: 2 } as const;
const TARGET_KIND_CODES = { classIndex: 0, probabilities: 1 } as const;
const HALF_FORMAT_CODES = { float16: 1, bfloat16: 2 } as const;

/** The override constants a kernel is made with, for a problem of `variant` (absent for kernels without). */
export function overrideConstants(description: KernelDescription, variant: KernelVariant | undefined,
  subgroupSize: number): Record<string, number> {
  const constants: Record<string, number> = { workgroup_size: description.subgroupWorkgroup ? subgroupSize : WORKGROUP_SIZE };
  for (const group of description.overrides) {
    if (variant === undefined) throw new Error(`${description.module}:${description.entryPoint} needs a row variant`);
    if (group === 'matmul') {
      if (!('aTransposed' in variant)) throw new Error(`${description.module}:${description.entryPoint} needs a matmul variant`);
      Object.assign(constants, {
        A_TRANSPOSED: Number(variant.aTransposed),
        B_TRANSPOSED: Number(variant.bTransposed),
        ACCUMULATE: Number(variant.accumulate),
        HAS_BIAS: Number(variant.bias),
        A_STORAGE: MATMUL_STORAGE_CODES[variant.aStorage ?? 'float32'],
        B_STORAGE: MATMUL_STORAGE_CODES[variant.bStorage ?? 'float32'],
      });
      if (variant.halfFormat !== undefined) constants.HALF_FORMAT = HALF_FORMAT_CODES[variant.halfFormat];
    } else if ('aTransposed' in variant) {
      throw new Error(`${description.module}:${description.entryPoint} needs a row or half variant`);
    } else if (group === 'half') {
      constants.HALF_FORMAT = HALF_FORMAT_CODES[variant.dtype as HalfVariant['dtype']];
      constants.HALF_GRAD = Number((variant as HalfVariant).gradDtype !== 'float32');
    } else if (group === 'halfFormat') {
      constants.HALF_FORMAT = HALF_FORMAT_CODES[variant.dtype as HalfFormatVariant['dtype']];
    } else if (!('input' in variant)) {
      throw new Error(`${description.module}:${description.entryPoint} needs a row variant`);
    } else if (group === 'row') {
      Object.assign(constants, {
        INPUT_KIND: INPUT_KIND_CODES[variant.input],
        TARGET_KIND: TARGET_KIND_CODES[variant.targetKind],
        HAS_WEIGHT: Number(variant.hasWeight),
        NEED_SMOOTHING_SUM: Number(variant.needSmoothingSum),
        HAS_SOFTCAP: Number(variant.hasSoftcap),
        WRITE_SUMMARY: Number(variant.writeSummary),
      });
      if (variant.dtype !== 'float32') constants.HALF_FORMAT = HALF_FORMAT_CODES[variant.dtype];
    } else {
      constants.GRAD_IN_PLACE = Number(variant.gradInPlace);
    }
  }
  return { ...constants, ...description.constants };
}

/** A device's kernels, each compiled on first use and kept per set of override constants. */
export interface Kernels {
  /** The subgroup size kernels use subgroup operations with; 0 when they do not. */
  readonly subgroupSize: number;
  /** The kernels every problem kind uses, made with the instance. */
  readonly batchReduce: Kernel;
  readonly binary: Kernel;
  /** Kernel `name`, specialised for a problem of `variant` (row, 16-bit and matmul kernels) or not. */
  get(name: KernelName, variant?: KernelVariant): Promise<Kernel>;
  /**
   * The same kernel without waiting, for callers that must encode synchronously (the TF.js
   * adapter): one made before is returned; else it is made now with createComputePipeline, and a
   * failure is a WebGPU error in the caller's error scopes, not a throw.
   */
  getSync(name: KernelName, variant?: KernelVariant): Kernel;
}

/** A shader that failed to compile: names the file, line and column of each error. */
export class ShaderCompilationError extends Error {
  constructor(files: readonly ShaderFile[], messages: readonly GPUCompilationMessage[]) {
    const errors = messages.filter((m) => m.type === 'error');
    const text = errors.map((m) => `${locate(files, m.lineNum)}:${m.linePos}: ${m.message}`).join('\n');
    super(`WGSL compilation of ${mainFile(files).name}.wgsl failed:\n${text}`);
    this.name = 'ShaderCompilationError';
  }
}

/** Per device, its kernels by subgroup size (0: without subgroup operations). */
const cache = new WeakMap<GPUDevice, Map<number, Promise<Kernels>>>();

/**
 * The kernels of a device, created on first use; with `subgroupSize` > 0, the kernels that have a
 * subgroup form use it, in workgroups of that many invocations (one subgroup each).
 */
export function kernelsFor(device: GPUDevice, subgroupSize = 0): Promise<Kernels> {
  let bySize = cache.get(device);
  if (bySize === undefined) {
    bySize = new Map();
    cache.set(device, bySize);
  }
  let kernels = bySize.get(subgroupSize);
  if (kernels === undefined) {
    kernels = createKernels(device, subgroupSize);
    bySize.set(subgroupSize, kernels);
    // A failed creation is not cached: a later call may try again (e.g. after a transient OOM).
    kernels.catch(() => bySize.delete(subgroupSize));
  }
  return kernels;
}

async function createKernels(device: GPUDevice, subgroupSize: number): Promise<Kernels> {
  const made = new Map<string, Promise<Kernel>>();
  // The kernels made so far, by the same key, for getSync.
  const ready = new Map<string, Kernel>();
  const describe = (name: KernelName, variant: KernelVariant | undefined) => {
    const description: KernelDescription = KERNELS[name];
    if (description.subgroupWorkgroup && subgroupSize === 0) {
      throw new Error(`${name}: these kernels were made without subgroups`);
    }
    const constants = overrideConstants(description, variant, subgroupSize);
    const half = variant !== undefined && 'dtype' in variant && variant.dtype !== 'float32';
    const files = moduleFiles(description.module, half ? 'half' : 'float32');
    return { description, constants, files, key: JSON.stringify([name, constants]) };
  };
  const get = (name: KernelName, variant?: KernelVariant): Promise<Kernel> => {
    let described: ReturnType<typeof describe>;
    try {
      described = describe(name, variant);
    } catch (error) {
      return Promise.reject(error);
    }
    const { description, constants, files, key } = described;
    let kernel = made.get(key);
    if (kernel === undefined) {
      kernel = createKernel(device, files, description.bindings, constants, description.entryPoint);
      made.set(key, kernel);
      kernel.then((k) => ready.set(key, k), () => made.delete(key));
    }
    return kernel;
  };
  const getSync = (name: KernelName, variant?: KernelVariant): Kernel => {
    const { description, constants, files, key } = describe(name, variant);
    let kernel = ready.get(key);
    if (kernel === undefined) {
      kernel = createKernelSync(device, files, description.bindings, constants, description.entryPoint);
      ready.set(key, kernel);
      made.set(key, Promise.resolve(kernel));
    }
    return kernel;
  };
  // Made with the instance, so that a device that cannot compile them fails create().
  const [batchReduce, binary] = await Promise.all([get('batchReduce'), get('binary')]);
  return { subgroupSize, batchReduce, binary, get, getSync };
}

/** What both ways of making a kernel make first: its module, layouts and binding numbers. */
function kernelParts(device: GPUDevice, files: readonly ShaderFile[], bindings: Readonly<Record<string, BindingKind>>,
  constants: Record<string, number>, entryPoint: string) {
  const label = `cross-entropy:${mainFile(files).name}${entryPoint === 'main' ? '' : `:${entryPoint}`}`;
  const code = moduleSource(files);
  const declared = declaredBindings(code);
  const numbers = new Map(Object.keys(bindings).map((name) => {
    const declaration = declared.get(name);
    if (declaration === undefined) throw new Error(`${label}: the module declares no binding named ${name}`);
    return [name, declaration.binding] as const;
  }));
  const module = device.createShaderModule({ label, code });
  const layout = device.createBindGroupLayout({
    label,
    entries: Object.entries(bindings).map(([name, type]) => ({
      binding: numbers.get(name)!, visibility: ShaderStage.COMPUTE, buffer: { type },
    })),
  });
  const pipelineLayout = device.createPipelineLayout({ label, bindGroupLayouts: [layout] });
  const overrides = { workgroup_size: WORKGROUP_SIZE, ...constants };
  const stage = { label, layout: pipelineLayout, compute: { module, entryPoint, constants: overrides } };
  return { label, module, layout, numbers, stage, workgroupSize: overrides.workgroup_size };
}

/**
 * Makes one kernel without waiting: a shader that fails to compile is a validation error in the
 * caller's error scopes (no file and line: those come from getCompilationInfo, which is async).
 */
function createKernelSync(device: GPUDevice, files: readonly ShaderFile[], bindings: Readonly<Record<string, BindingKind>>,
  constants: Record<string, number>, entryPoint: string): Kernel {
  const { label, layout, numbers, stage, workgroupSize } = kernelParts(device, files, bindings, constants, entryPoint);
  return { pipeline: device.createComputePipeline(stage), layout, label, workgroupSize, bindings: numbers };
}

/**
 * Compiles one kernel from `files`, with a layout of the named `bindings` at the numbers the
 * source declares them (exported for the test that feeds it a broken shader).
 */
export async function createKernel(
  device: GPUDevice, files: readonly ShaderFile[], bindings: Readonly<Record<string, BindingKind>>,
  constants: Record<string, number> = {}, entryPoint = 'main',
): Promise<Kernel> {
  // The scope is pushed and popped with no await between, so concurrent calls cannot interleave
  // their scopes; it turns a creation error into a rejection instead of an uncaptured error.
  device.pushErrorScope('validation');
  let parts: ReturnType<typeof kernelParts>;
  try {
    parts = kernelParts(device, files, bindings, constants, entryPoint);
  } catch (error) {
    void device.popErrorScope().catch(() => {});
    throw error;
  }
  const { label, module, layout, numbers, stage, workgroupSize } = parts;
  const [error, info] = await Promise.all([device.popErrorScope(), module.getCompilationInfo()]);
  if (info.messages.some((m) => m.type === 'error')) throw new ShaderCompilationError(files, info.messages);
  if (error !== null) throw new Error(`${label}: creation failed: ${error.message}`);
  // Asynchronous creation keeps a browser's main thread responsive while the driver compiles; it
  // rejects (GPUPipelineError) by itself on failure.
  const pipeline = await device.createComputePipelineAsync(stage);
  return { pipeline, layout, label, workgroupSize, bindings: numbers };
}
