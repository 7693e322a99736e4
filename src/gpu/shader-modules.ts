/**
 * The shader programs: each kernel's module is its WGSL files joined in order, the libraries of
 * shaders/lib/ first. A library states at its top what it needs from the kernel that includes it.
 */
import floatBits from '../../shaders/lib/float-bits.wgsl?raw';
import compensatedSum from '../../shaders/lib/compensated-sum.wgsl?raw';
import rowCommon from '../../shaders/lib/row-common.wgsl?raw';
import classWeight from '../../shaders/lib/class-weight.wgsl?raw';
import preciseMath from '../../shaders/lib/precise-math.wgsl?raw';
import rowScan from '../../shaders/lib/row-scan.wgsl?raw';
import rowScanVec4 from '../../shaders/lib/row-scan-vec4.wgsl?raw';
import rowScanLanes from '../../shaders/lib/row-scan-lanes.wgsl?raw';
import rowFinish from '../../shaders/lib/row-finish.wgsl?raw';
import rowGradient from '../../shaders/lib/row-gradient.wgsl?raw';
import inputFloat32 from '../../shaders/lib/input-float32.wgsl?raw';
import inputHalf from '../../shaders/lib/input-half.wgsl?raw';
import rowStats from '../../shaders/row-stats.wgsl?raw';
import rowStatsVec4 from '../../shaders/row-stats-vec4.wgsl?raw';
import rowStatsSubgroup from '../../shaders/row-stats-subgroup.wgsl?raw';
import rowLoss from '../../shaders/row-loss.wgsl?raw';
import rowGrad from '../../shaders/row-grad.wgsl?raw';
import rowGradHalf from '../../shaders/row-grad-half.wgsl?raw';
import rowLossGrad from '../../shaders/row-loss-grad.wgsl?raw';
import batchReduce from '../../shaders/batch-reduce.wgsl?raw';
import binary from '../../shaders/binary.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import packHalf from '../../shaders/pack-half.wgsl?raw';

/** One file of a shader program: its path under shaders/, without `.wgsl`, and its text. */
export interface ShaderFile {
  readonly name: string;
  readonly code: string;
}

const lib = {
  floatBits: { name: 'lib/float-bits', code: floatBits },
  compensatedSum: { name: 'lib/compensated-sum', code: compensatedSum },
  rowCommon: { name: 'lib/row-common', code: rowCommon },
  classWeight: { name: 'lib/class-weight', code: classWeight },
  preciseMath: { name: 'lib/precise-math', code: preciseMath },
  rowScan: { name: 'lib/row-scan', code: rowScan },
  rowScanVec4: { name: 'lib/row-scan-vec4', code: rowScanVec4 },
  rowScanLanes: { name: 'lib/row-scan-lanes', code: rowScanLanes },
  rowFinish: { name: 'lib/row-finish', code: rowFinish },
  rowGradient: { name: 'lib/row-gradient', code: rowGradient },
  inputFloat32: { name: 'lib/input-float32', code: inputFloat32 },
  inputHalf: { name: 'lib/input-half', code: inputHalf },
} satisfies Record<string, ShaderFile>;

/**
 * What every row kernel starts with: the special values, compensated sums, row-common, and the
 * input library, f32 here (`moduleFiles` swaps in lib/input-half for 16-bit inputs).
 */
const ROW = [lib.floatBits, lib.compensatedSum, lib.rowCommon, lib.inputFloat32] as const;

/** Each module's files, in the order they are joined (a library after what it needs). */
export const SHADER_MODULES = {
  rowStats: [...ROW, lib.classWeight, lib.rowScan, { name: 'row-stats', code: rowStats }],
  rowStatsVec4: [...ROW, lib.rowScanVec4, { name: 'row-stats-vec4', code: rowStatsVec4 }],
  // `enable subgroups` must open the module: the kernel's own file goes first.
  rowStatsSubgroup: [{ name: 'row-stats-subgroup', code: rowStatsSubgroup }, ...ROW, lib.rowScanVec4],
  // Only for 16-bit inputs: its input library is lib/input-half whatever moduleFiles is asked.
  rowGradHalf: [lib.floatBits, lib.compensatedSum, lib.rowCommon, lib.inputHalf, lib.preciseMath, lib.classWeight,
    lib.rowGradient, { name: 'row-grad-half', code: rowGradHalf }],
  rowLoss: [...ROW, lib.preciseMath, lib.classWeight, lib.rowScan, lib.rowScanLanes, lib.rowFinish,
    { name: 'row-loss', code: rowLoss }],
  rowGrad: [...ROW, lib.preciseMath, lib.classWeight, lib.rowGradient, { name: 'row-grad', code: rowGrad }],
  rowLossGrad: [...ROW, lib.preciseMath, lib.classWeight, lib.rowScan, lib.rowScanLanes, lib.rowFinish,
    lib.rowGradient, { name: 'row-loss-grad', code: rowLossGrad }],
  batchReduce: [lib.floatBits, lib.compensatedSum, { name: 'batch-reduce', code: batchReduce }],
  binary: [lib.floatBits, lib.preciseMath, lib.inputHalf, { name: 'binary', code: binary }],
  // Its operands are read directly, never through the input libraries; lib/input-half decodes
  // 16-bit operands (its bindings are declared and not used).
  matmul: [lib.floatBits, lib.inputHalf, { name: 'matmul', code: matmul }],
  // lib/input-half rounds (its bindings are declared and not used).
  packHalf: [lib.floatBits, lib.inputHalf, { name: 'pack-half', code: packHalf }],
} as const satisfies Record<string, readonly ShaderFile[]>;

export type ShaderModuleName = keyof typeof SHADER_MODULES;

/** Whether the input is stored as f32 or as 16-bit values (lib/input-float32 or lib/input-half). */
export type InputStorage = 'float32' | 'half';

/** A module's files for an input stored as `storage`. */
export function moduleFiles(name: ShaderModuleName, storage: InputStorage): readonly ShaderFile[] {
  const files: readonly ShaderFile[] = SHADER_MODULES[name];
  return storage === 'float32' ? files : files.map((file) => (file === lib.inputFloat32 ? lib.inputHalf : file));
}

/** The file a program is named after: its last file outside shaders/lib/ (else its last). */
export function mainFile(files: readonly ShaderFile[]): ShaderFile {
  return files.findLast((f) => !f.name.startsWith('lib/')) ?? files.at(-1)!;
}

/** A module's source: its files joined by newlines (line numbers are mapped back by `locate`). */
export function moduleSource(files: readonly ShaderFile[]): string {
  return files.map((f) => f.code).join('\n');
}

/** "file.wgsl:line" for a line of a module's source. */
export function locate(files: readonly ShaderFile[], line: number): string {
  let first = 1;
  for (const file of files) {
    const lines = file.code.split('\n').length;
    if (line < first + lines) return `${file.name}.wgsl:${line - first + 1}`;
    first += lines;
  }
  return `${mainFile(files).name}.wgsl:${line}`;
}

/** A binding a module declares: its number and how it is declared. */
export interface DeclaredBinding {
  readonly binding: number;
  /** `uniform`, or the storage access mode: `read` or `read_write`. */
  readonly access: 'uniform' | 'read' | 'read_write';
}

const BINDING_DECLARATION = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage)\s*(?:,\s*(read|read_write)\s*)?>\s*(\w+)/g;

/**
 * The bindings a module's source declares, by variable name (two names may share a binding: the
 * scalar and vec4 views of one array). Comments are skipped.
 */
export function declaredBindings(source: string): ReadonlyMap<string, DeclaredBinding> {
  const code = source.replace(/\/\/.*$/gm, '');
  const bindings = new Map<string, DeclaredBinding>();
  for (const [, binding, space, access, name] of code.matchAll(BINDING_DECLARATION)) {
    bindings.set(name!, {
      binding: Number(binding),
      access: space === 'uniform' ? 'uniform' : (access as 'read' | 'read_write' | undefined) ?? 'read',
    });
  }
  return bindings;
}
