/**
 * The compute pipelines, created once per device and shared by every CrossEntropy on it. Each has an
 * explicit bind-group layout, a label, and a workgroup size given through an override constant.
 * The row kernels are compiled with row-common.wgsl in front of them; errors are reported against
 * the file and line they come from.
 */
import rowCommonSource from '../../shaders/row-common.wgsl?raw';
import rowScanSource from '../../shaders/row-scan.wgsl?raw';
import rowStatsSource from '../../shaders/row-stats.wgsl?raw';
import rowScanVec4Source from '../../shaders/row-scan-vec4.wgsl?raw';
import rowScanLanesSource from '../../shaders/row-scan-lanes.wgsl?raw';
import rowStatsVec4Source from '../../shaders/row-stats-vec4.wgsl?raw';
import rowStatsSubgroupSource from '../../shaders/row-stats-subgroup.wgsl?raw';
import rowFinishSource from '../../shaders/row-finish.wgsl?raw';
import rowLossSource from '../../shaders/row-loss.wgsl?raw';
import rowGradientSource from '../../shaders/row-gradient.wgsl?raw';
import rowGradSource from '../../shaders/row-grad.wgsl?raw';
import rowLossGradSource from '../../shaders/row-loss-grad.wgsl?raw';
import batchReduceSource from '../../shaders/batch-reduce.wgsl?raw';
import binarySource from '../../shaders/binary.wgsl?raw';
import preciseMathSource from '../../shaders/precise-math.wgsl?raw';
import { ShaderStage } from './constants.js';

/** Invocations per workgroup: a multiple of every common SIMD width, and within every device's limit. */
export const WORKGROUP_SIZE = 64;

/** A binding's kind, or null for a binding number the kernel leaves out. */
type BindingKind = 'uniform' | 'read-only-storage' | 'storage' | null;

/** A kernel's pipeline and the layout its bind groups are made with. */
export interface Kernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly label: string;
  /** Invocations per workgroup (the `workgroup_size` override it was made with). */
  readonly workgroupSize: number;
}

/**
 * The row kernels of one problem kind, by name. Each is compiled the first time a call runs it:
 * - rowStats: statistics of chunks of rows, one class at a time (any layout);
 * - rowStatsVec4: the same four classes a step, for contiguous rows a multiple of 4 long;
 * - rowStatsUnaligned: rowStatsVec4 for contiguous rows of other lengths (masked vec4s);
 * - rowStatsSubgroup: rowStatsVec4 with a subgroup walking each chunk, interleaved, and merging
 *   with subgroup operations (one workgroup per chunk; only where kernels use subgroups);
 * - rowLoss: merges the chunk states into each row's loss; rowLossScan: scans each one-chunk row
 *   itself, one class at a time (no statistics pass before it); rowLossLanes: the same for four
 *   neighbouring rows of a K-dimensional layout per invocation (vec4 lanes);
 * - rowGrad (any layout), rowGradVec4, rowGradUnaligned: the gradient from the rows' summaries,
 *   with the loads and stores of the statistics kernels of the same name;
 * - rowLossGradScan, rowLossGradLanes: rowLossScan and rowLossLanes that also write the gradient
 *   of the rows they scan, in the same pass; rowWeights: each row's 'mean' denominator weight from
 *   its target alone, which they need reduced before they run.
 */
export type RowKernelName = 'rowStats' | 'rowStatsVec4' | 'rowStatsUnaligned' | 'rowStatsSubgroup' | 'rowLoss'
  | 'rowLossScan' | 'rowLossLanes' | 'rowGrad' | 'rowGradVec4' | 'rowGradUnaligned' | 'rowLossGradScan'
  | 'rowLossGradLanes' | 'rowWeights';

/** What fixes a row pipeline's override constants (see row-common.wgsl). */
export interface RowVariant {
  readonly input: 'logits' | 'probabilities' | 'logProbabilities';
  readonly targetKind: 'classIndex' | 'probabilities';
  readonly hasWeight: boolean;
  readonly needSmoothingSum: boolean;
  readonly hasSoftcap: boolean;
  /** Keep each row's summary (the gradient and row statistics read it). */
  readonly writeSummary: boolean;
  /** The gradient kernels overwrite the input with the gradient (row-gradient's GRAD_IN_PLACE). */
  readonly gradInPlace: boolean;
}

const INPUT_KIND_CODES = { logits: 0, probabilities: 1, logProbabilities: 2 } as const;
const TARGET_KIND_CODES = { classIndex: 0, probabilities: 1 } as const;

/**
 * The override constants of a row variant (those of row-common.wgsl, which every row kernel
 * declares): every field but gradInPlace, which only the gradient kernels declare (GRAD_IN_PLACE).
 */
function rowConstants(variant: RowVariant): Record<string, number> {
  return {
    INPUT_KIND: INPUT_KIND_CODES[variant.input],
    TARGET_KIND: TARGET_KIND_CODES[variant.targetKind],
    HAS_WEIGHT: Number(variant.hasWeight),
    NEED_SMOOTHING_SUM: Number(variant.needSmoothingSum),
    HAS_SOFTCAP: Number(variant.hasSoftcap),
    WRITE_SUMMARY: Number(variant.writeSummary),
  };
}

/** A device's kernels: the fixed ones, and row kernels per variant, made on first use. */
export interface Kernels {
  /** The subgroup size row kernels use subgroup operations with; 0 when they do not. */
  readonly subgroupSize: number;
  readonly batchReduce: Kernel;
  readonly binary: Kernel;
  /** Row kernel `name` of a problem kind, compiled on first use. */
  row(variant: RowVariant, name: RowKernelName): Promise<Kernel>;
}

/** One file of a shader program. */
export interface ShaderFile {
  readonly name: string;
  readonly code: string;
}

const ROW_COMMON: ShaderFile = { name: 'row-common', code: rowCommonSource };
const ROW_SCAN: ShaderFile = { name: 'row-scan', code: rowScanSource };
const ROW_SCAN_VEC4: ShaderFile = { name: 'row-scan-vec4', code: rowScanVec4Source };
const ROW_SCAN_LANES: ShaderFile = { name: 'row-scan-lanes', code: rowScanLanesSource };
const PRECISE_MATH: ShaderFile = { name: 'precise-math', code: preciseMathSource };
const ROW_FINISH: ShaderFile = { name: 'row-finish', code: rowFinishSource };
const ROW_GRADIENT: ShaderFile = { name: 'row-gradient', code: rowGradientSource };
const SHARED_FILES: ReadonlySet<ShaderFile> = new Set([ROW_COMMON, ROW_SCAN, ROW_SCAN_VEC4, ROW_SCAN_LANES, PRECISE_MATH,
  ROW_FINISH, ROW_GRADIENT]);

/** The file a program is named after: its last file that is not shared with other kernels. */
function mainFile(files: readonly ShaderFile[]): ShaderFile {
  return files.findLast((f) => !SHARED_FILES.has(f)) ?? files.at(-1)!;
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

/** "file.wgsl:line" for a line of the concatenated program. */
function locate(files: readonly ShaderFile[], line: number): string {
  let first = 1;
  for (const file of files) {
    const lines = file.code.split('\n').length;
    if (line < first + lines) return `${file.name}.wgsl:${line - first + 1}`;
    first += lines;
  }
  return `${mainFile(files).name}.wgsl:${line}`;
}

/** Per device, its kernels by subgroup size (0: without subgroup operations). */
const cache = new WeakMap<GPUDevice, Map<number, Promise<Kernels>>>();

/**
 * The kernels of a device, created on first use; with `subgroupSize` > 0, the row kernels that
 * have a subgroup form use it, in workgroups of that many invocations (one subgroup each).
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

const R = 'read-only-storage';
const W = 'storage';

// Binding numbers mean the same array in every row kernel (see row-common.wgsl); each kernel's
// layout lists those its entry point reads or writes (8 storage buffers at most, WebGPU's default).
const ROW_STATS_BINDINGS: readonly BindingKind[] = ['uniform', R, R, R, R, W];
// row-loss `main` reads partials but not the logits; `main_scan` the logits but not partials.
const ROW_LOSS_BINDINGS: readonly BindingKind[] = ['uniform', null, R, null, R, R, W, W, W, W];
const ROW_LOSS_SCAN_BINDINGS: readonly BindingKind[] = ['uniform', R, R, R, R, null, W, W, W, W];
// row-grad reads the summaries (8) and the scale (11), and writes the gradient (10).
const ROW_GRAD_BINDINGS: readonly BindingKind[] = ['uniform', R, R, R, R, null, null, null, R, null, W, R];
// row-loss-grad writes the row losses (6), the status (9) and the gradient (10), reading the scale (11).
const ROW_LOSS_GRAD_BINDINGS: readonly BindingKind[] = ['uniform', R, R, R, R, null, W, null, null, W, W, R];
// row-loss-grad `main_weights` reads the targets and weights and writes the row weights (7).
const ROW_WEIGHTS_BINDINGS: readonly BindingKind[] = ['uniform', null, R, null, R, null, null, W];
const ROW_STATS_FILES: readonly ShaderFile[] = [ROW_COMMON, ROW_SCAN, { name: 'row-stats', code: rowStatsSource }];
const ROW_STATS_VEC4_FILES: readonly ShaderFile[] = [ROW_COMMON, ROW_SCAN_VEC4,
  { name: 'row-stats-vec4', code: rowStatsVec4Source }];
// `enable subgroups` must open the module: the subgroup kernel's file goes first.
const ROW_STATS_SUBGROUP_FILES: readonly ShaderFile[] = [{ name: 'row-stats-subgroup', code: rowStatsSubgroupSource },
  ROW_COMMON, ROW_SCAN_VEC4];
const ROW_LOSS_FILES: readonly ShaderFile[] = [ROW_COMMON, PRECISE_MATH, ROW_SCAN, ROW_SCAN_LANES, ROW_FINISH,
  { name: 'row-loss', code: rowLossSource }];
const ROW_GRAD_FILES: readonly ShaderFile[] = [ROW_COMMON, PRECISE_MATH, ROW_GRADIENT, { name: 'row-grad', code: rowGradSource }];
const ROW_LOSS_GRAD_FILES: readonly ShaderFile[] = [ROW_COMMON, PRECISE_MATH, ROW_SCAN, ROW_SCAN_LANES, ROW_FINISH,
  ROW_GRADIENT, { name: 'row-loss-grad', code: rowLossGradSource }];

async function createKernels(device: GPUDevice, subgroupSize: number): Promise<Kernels> {
  const [batchReduce, binary] = await Promise.all([
    createKernel(device, [{ name: 'batch-reduce', code: batchReduceSource }], ['uniform', R, R, W, W]),
    createKernel(device, [PRECISE_MATH, { name: 'binary', code: binarySource }], ['uniform', R, R, R, R, R, W, W]),
  ]);
  const rowKernels = new Map<string, Promise<Kernel>>();
  const row = (variant: RowVariant, name: RowKernelName): Promise<Kernel> => {
    const constants = rowConstants(variant);
    const key = JSON.stringify([name, constants, variant.gradInPlace]);
    let kernel = rowKernels.get(key);
    if (kernel === undefined) {
      kernel = createRowKernel(device, name, constants, variant.gradInPlace, subgroupSize);
      rowKernels.set(key, kernel);
      kernel.catch(() => rowKernels.delete(key));
    }
    return kernel;
  };
  return { subgroupSize, batchReduce, binary, row };
}

/**
 * Which override constants a row kernel takes beyond row-common.wgsl's: none, row-gradient's
 * GRAD_IN_PLACE, row-scan-vec4's MASKED_WALK set, or a workgroup of one subgroup.
 */
type RowOverrides = 'row' | 'grad' | 'masked' | 'subgroup';

/** How each row kernel is made: its program's files, bind-group layout, entry point and overrides. */
const ROW_KERNEL_SPECS: Record<RowKernelName, {
  files: readonly ShaderFile[]; bindings: readonly BindingKind[]; entryPoint: string; overrides: RowOverrides;
}> = {
  rowStats: { files: ROW_STATS_FILES, bindings: ROW_STATS_BINDINGS, entryPoint: 'main', overrides: 'row' },
  rowStatsVec4: { files: ROW_STATS_VEC4_FILES, bindings: ROW_STATS_BINDINGS, entryPoint: 'main', overrides: 'row' },
  rowStatsUnaligned: {
    files: ROW_STATS_VEC4_FILES, bindings: ROW_STATS_BINDINGS, entryPoint: 'main_unaligned', overrides: 'masked',
  },
  rowStatsSubgroup: {
    files: ROW_STATS_SUBGROUP_FILES, bindings: ROW_STATS_BINDINGS, entryPoint: 'main', overrides: 'subgroup',
  },
  rowLoss: { files: ROW_LOSS_FILES, bindings: ROW_LOSS_BINDINGS, entryPoint: 'main', overrides: 'row' },
  rowLossScan: { files: ROW_LOSS_FILES, bindings: ROW_LOSS_SCAN_BINDINGS, entryPoint: 'main_scan', overrides: 'row' },
  rowLossLanes: { files: ROW_LOSS_FILES, bindings: ROW_LOSS_SCAN_BINDINGS, entryPoint: 'main_lanes', overrides: 'row' },
  rowGrad: { files: ROW_GRAD_FILES, bindings: ROW_GRAD_BINDINGS, entryPoint: 'main', overrides: 'grad' },
  rowGradVec4: { files: ROW_GRAD_FILES, bindings: ROW_GRAD_BINDINGS, entryPoint: 'main_vec4', overrides: 'grad' },
  rowGradUnaligned: { files: ROW_GRAD_FILES, bindings: ROW_GRAD_BINDINGS, entryPoint: 'main_unaligned', overrides: 'grad' },
  rowLossGradScan: { files: ROW_LOSS_GRAD_FILES, bindings: ROW_LOSS_GRAD_BINDINGS, entryPoint: 'main_scan', overrides: 'grad' },
  rowLossGradLanes: {
    files: ROW_LOSS_GRAD_FILES, bindings: ROW_LOSS_GRAD_BINDINGS, entryPoint: 'main_lanes', overrides: 'grad',
  },
  rowWeights: { files: ROW_LOSS_GRAD_FILES, bindings: ROW_WEIGHTS_BINDINGS, entryPoint: 'main_weights', overrides: 'row' },
};

function createRowKernel(device: GPUDevice, name: RowKernelName, constants: Record<string, number>,
  gradInPlace: boolean, subgroupSize: number): Promise<Kernel> {
  const spec = ROW_KERNEL_SPECS[name];
  if (spec.overrides === 'subgroup' && subgroupSize === 0) {
    return Promise.reject(new Error(`${name}: these kernels were made without subgroups`));
  }
  const overrides = {
    row: constants,
    grad: { ...constants, GRAD_IN_PLACE: Number(gradInPlace) },
    masked: { ...constants, MASKED_WALK: 1 },
    subgroup: { ...constants, workgroup_size: subgroupSize },
  }[spec.overrides];
  return createKernel(device, spec.files, spec.bindings, overrides, spec.entryPoint);
}

/** Compiles one kernel (exported for the test that feeds it a broken shader). */
export async function createKernel(
  device: GPUDevice, files: readonly ShaderFile[], bindings: readonly BindingKind[],
  constants: Record<string, number> = {}, entryPoint = 'main',
): Promise<Kernel> {
  const label = `cross-entropy:${mainFile(files).name}${entryPoint === 'main' ? '' : `:${entryPoint}`}`;
  // The scope is pushed and popped with no await between, so concurrent calls cannot interleave
  // their scopes; it turns a creation error into a rejection instead of an uncaptured error.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code: files.map((f) => f.code).join('\n') });
  const layout = device.createBindGroupLayout({
    label,
    entries: bindings.flatMap((type, binding) =>
      (type === null ? [] : [{ binding, visibility: ShaderStage.COMPUTE, buffer: { type } }])),
  });
  const pipelineLayout = device.createPipelineLayout({ label, bindGroupLayouts: [layout] });
  const [error, info] = await Promise.all([device.popErrorScope(), module.getCompilationInfo()]);
  if (info.messages.some((m) => m.type === 'error')) throw new ShaderCompilationError(files, info.messages);
  if (error !== null) throw new Error(`${label}: creation failed: ${error.message}`);
  // Asynchronous creation keeps a browser's main thread responsive while the driver compiles; it
  // rejects (GPUPipelineError) by itself on failure.
  const overrides = { workgroup_size: WORKGROUP_SIZE, ...constants };
  const pipeline = await device.createComputePipelineAsync({
    label,
    layout: pipelineLayout,
    compute: { module, entryPoint, constants: overrides },
  });
  return { pipeline, layout, label, workgroupSize: overrides.workgroup_size };
}
