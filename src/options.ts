/**
 * Defaults and validation: turns (logits, target, options) into a checked `Problem`, or throws a
 * TypeError / RangeError that names the argument, the position and the value. Shared by the GPU
 * path and the float64 reference so that both accept and reject exactly the same calls.
 */
import type { Dtype, InputKind, Reduction } from './types.js';
import { DTYPES, dtypeBytes, isFloat16Array } from './half-precision.js';
import { formatPosition, formatShape, product, rowLayout, sameShape, type RowLayout } from './shape.js';
import { readOptionNames } from './option-names.js';
import { describeKind, isDetached, isGpuBuffer } from './tensor-data.js';

/** GPUBufferUsage.STORAGE: every buffer a kernel binds needs it (named here: see gpu/constants.ts). */
const STORAGE_USAGE = 0x0080;
/** Row indices are u32 on the GPU. */
const MAX_ROWS = 2 ** 32 - 1;

/** PyTorch's defaults, stated once. */
export const DEFAULTS = {
  reduction: 'mean',
  ignoreIndex: -100,
  labelSmoothing: 0,
  input: 'logits',
  zLoss: 0,
  grad: false,
  gradInPlace: false,
} as const satisfies {
  reduction: Reduction; ignoreIndex: number; labelSmoothing: number; input: InputKind; zLoss: number;
  grad: boolean; gradInPlace: boolean;
};

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];
const INPUT_KINDS: readonly InputKind[] = ['logits', 'probabilities', 'logProbabilities'];

export type TargetKind = 'classIndex' | 'probabilities';

/** A validated call: shapes read as rows of classes, options with defaults filled in. */
export interface Problem {
  readonly logitsShape: readonly number[];
  readonly targetShape: readonly number[];
  readonly layout: RowLayout;
  readonly targetKind: TargetKind;
  readonly reduction: Reduction;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  readonly input: InputKind;
  readonly zLoss: number;
  /** 0 when off. */
  readonly softcap: number;
  readonly grad: boolean;
  readonly gradInPlace: boolean;
  /** How the logits are stored. */
  readonly dtype: Dtype;
  /** How the gradient is stored: the logits' dtype, or 'float32'. */
  readonly gradDtype: Dtype;
}

/** Which data kinds a caller accepts (the GPU path takes f32; the reference also takes f64). */
export interface AcceptedData {
  readonly floatArrays: readonly (typeof Float32Array | typeof Float64Array)[];
  readonly gpuBuffers: boolean;
}

type Data = unknown;
export interface TensorLike { readonly data: Data; readonly shape: readonly number[]; readonly dtype?: unknown }

function fail(kind: 'type' | 'range', message: string): never {
  throw kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/** Checks `{ data, shape }` and its dimensions (not the data's kind or length). */
export function readTensor(name: string, value: unknown): TensorLike {
  if (typeof value !== 'object' || value === null || !('data' in value) || !('shape' in value)) {
    fail('type', `${name} must be an object { data, shape }, got ${describeKind(value)}`);
  }
  const { data, shape, dtype } = value as { data: unknown; shape: unknown; dtype?: unknown };
  if (!Array.isArray(shape)) {
    fail('type', `${name}.shape must be an array of dimensions, got ${describeKind(shape)}`);
  }
  shape.forEach((dim: unknown, axis: number) => {
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0) {
      fail('range', `${name}.shape[${axis}] must be a non-negative integer, got ${
        typeof dim === 'number' ? String(dim) : describeKind(dim)}`);
    }
  });
  if (!Number.isSafeInteger(product(shape as number[]))) {
    fail('range', `${name}.shape ${formatShape(shape)} has more elements than can be indexed`);
  }
  return { data, shape: shape as number[], dtype };
}

/** Other names of the dtypes (PyTorch's, NumPy's, shorthands), for a "did you mean". */
const DTYPE_ALIASES: Readonly<Record<string, Dtype>> = {
  f32: 'float32', fp32: 'float32', float: 'float32', f16: 'float16', fp16: 'float16', half: 'float16',
  bf16: 'bfloat16', 'torch.float16': 'float16', 'torch.bfloat16': 'bfloat16', 'torch.float32': 'float32',
};

/** Reads `${name}.dtype`: absent is 'float32'. */
export function readDtype(name: string, tensor: TensorLike): Dtype {
  const { dtype } = tensor;
  if (dtype === undefined) return 'float32';
  if (!DTYPES.includes(dtype as Dtype)) {
    const meant = typeof dtype === 'string' ? DTYPE_ALIASES[dtype.toLowerCase()] : undefined;
    fail('type', `${name}.dtype must be one of ${DTYPES.map((d) => `'${d}'`).join(', ')}, got ${describeKind(dtype)}${
      meant === undefined ? '' : `; did you mean '${meant}'?`}`);
  }
  return dtype as Dtype;
}

/** Checks that an input other than the logits (targets) has no dtype but f32's. */
export function checkF32Tensor(name: string, tensor: TensorLike): void {
  if (tensor.dtype !== undefined && tensor.dtype !== 'float32') {
    fail('type', `${name}.dtype must be 'float32' or absent, got ${describeKind(tensor.dtype)}: only the logits may `
      + 'be 16-bit');
  }
}

/**
 * Checks the logits' data against their dtype: f32 data (or a GPUBuffer) for 'float32', 16-bit
 * bit patterns (a Uint16Array, a Float16Array for 'float16', or a GPUBuffer) otherwise.
 */
export function checkLogitsData(name: string, data: Data, dtype: Dtype, accepted: AcceptedData): void {
  if (dtype === 'float32') {
    if (data instanceof Uint16Array || isFloat16Array(data)) {
      fail('type', `${name} is a ${describeKind(data)} but ${name.replace('.data', '.dtype')} is 'float32' (or `
        + `absent): say how its 16 bits are read, with dtype 'float16' or 'bfloat16'`);
    }
    checkFloatData(name, data, accepted);
    return;
  }
  if (accepted.gpuBuffers && isGpuBuffer(data)) return;
  if (!(data instanceof Uint16Array) && !(dtype === 'float16' && isFloat16Array(data))) {
    fail('type', `${name} must be a Uint16Array of ${dtype} bit patterns${dtype === 'float16' ? ', a Float16Array' : ''}`
      + `${accepted.gpuBuffers ? ' or a GPUBuffer' : ''} for ${name.replace('.data', '.dtype')} '${dtype}', got `
      + `${describeKind(data)}${data instanceof Float32Array ? ' (encodeHalf rounds f32 values to 16 bits; or drop dtype)' : ''}`);
  }
  checkAttached(name, data);
}

/** Bytes a GPUBuffer of `count` values of `dtype` needs: 16-bit values fill whole 32-bit words. */
export function dataBytes(count: number, dtype: Dtype): number {
  return Math.ceil((count * dtypeBytes(dtype)) / 4) * 4;
}

/**
 * Checks a caller's GPUBuffer before any GPU work: large enough (`needs` says what for) and bindable
 * as storage. A destroyed buffer or one from another device cannot be seen from the host: WebGPU
 * reports those through the call's error scopes.
 */
export function checkGpuBuffer(name: string, buffer: GPUBuffer, bytes: number, needs: string, hint = ''): void {
  if (buffer.size < bytes) fail('range', `${name} is a GPUBuffer of ${buffer.size} bytes but ${needs} ${bytes}${hint}`);
  if ((buffer.usage & STORAGE_USAGE) === 0) {
    fail('type', `${name} is a GPUBuffer without STORAGE usage (usage 0x${buffer.usage.toString(16)}): `
      + 'kernels bind it as a storage buffer');
  }
}

/** Checks that a typed array still has its memory (see isDetached). */
function checkAttached(name: string, data: Data): void {
  if (isDetached(data)) {
    fail('type', `${name} is a detached ${describeKind(data).replace('detached ', '')}: its ArrayBuffer was `
      + 'transferred (postMessage, structuredClone) and holds no data');
  }
}

/**
 * Checks that the data holds exactly the shape's elements (a GPUBuffer: at least). `mayBeHalf`: the
 * tensor may be 16-bit (the logits), so a GPUBuffer of f32 logits the size of packed 16-bit ones
 * says so.
 */
export function checkLength(name: string, tensor: TensorLike, dtype: Dtype = 'float32', mayBeHalf = false): void {
  const needed = product(tensor.shape);
  if (isGpuBuffer(tensor.data)) {
    const looksHalf = mayBeHalf && dtype === 'float32' && needed > 0 && tensor.data.size >= dataBytes(needed, 'float16')
      && tensor.data.size < dataBytes(needed, 'float32');
    checkGpuBuffer(`${name}.data`, tensor.data, dataBytes(needed, dtype),
      `${name}.shape ${formatShape(tensor.shape)}${dtype === 'float32' ? '' : ` of ${dtype} (packed two per word)`} needs`,
      looksHalf ? ` (4 bytes an f32 value; for 16-bit values packed two per word, give ${name}.dtype)` : '');
    return;
  }
  const length = (tensor.data as ArrayLike<number>).length;
  if (length !== needed) {
    fail('range', `${name}.data has ${length} elements but ${name}.shape ${formatShape(tensor.shape)} `
      + `needs ${needed}`);
  }
}

function isOneOf(value: unknown, kinds: readonly (abstract new (...args: never[]) => unknown)[]): boolean {
  return kinds.some((kind) => value instanceof kind);
}

/**
 * Checks that data (named in full, as 'logits.data') is one of the accepted float arrays, attached,
 * or a GPUBuffer where those are accepted.
 */
export function checkFloatData(name: string, data: Data, accepted: AcceptedData): void {
  if (accepted.gpuBuffers && isGpuBuffer(data)) return;
  if (!isOneOf(data, accepted.floatArrays)) {
    const kinds = [...accepted.floatArrays.map((k) => k.name), ...(accepted.gpuBuffers ? ['GPUBuffer'] : [])];
    const hint = data instanceof Uint16Array || isFloat16Array(data) ? ' (only the logits may be 16-bit)' : '';
    fail('type', `${name} must be a ${kinds.join(' or ')}, got ${describeKind(data)}${hint}`);
  }
  checkAttached(name, data);
}

export interface ForwardOptionsIn {
  readonly reduction?: unknown;
  readonly ignoreIndex?: unknown;
  readonly labelSmoothing?: unknown;
  readonly input?: unknown;
  readonly zLoss?: unknown;
  readonly softcap?: unknown;
  readonly grad?: unknown;
  readonly gradInPlace?: unknown;
  readonly gradDtype?: unknown;
}

export function readBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail('type', `${name} must be a boolean, got ${describeKind(value)}`);
  return value;
}

/** zLoss and softcap: finite numbers, for logits only. */
function readLogitTransforms(options: ForwardOptionsIn, input: InputKind) {
  const zLoss = options.zLoss ?? DEFAULTS.zLoss;
  if (typeof zLoss !== 'number' || !Number.isFinite(zLoss)) {
    fail(typeof zLoss === 'number' ? 'range' : 'type', `options.zLoss must be a finite number, got ${describeKind(zLoss)}`);
  }
  const softcap = options.softcap ?? 0;
  if (typeof softcap !== 'number' || !(softcap >= 0 && softcap < Infinity)) {
    fail(typeof softcap === 'number' ? 'range' : 'type',
      `options.softcap must be a positive finite number, got ${describeKind(softcap)}`);
  }
  if (input !== 'logits' && (zLoss !== 0 || softcap !== 0)) {
    fail('range', `options.${zLoss !== 0 ? 'zLoss' : 'softcap'} applies to input 'logits' only, got input '${input}'`);
  }
  return { zLoss, softcap };
}

/** The gradient's dtype: the logits' own, or 'float32' (not written in place, then). */
export function readGradDtype(options: ForwardOptionsIn, dtype: Dtype, grad: boolean, gradInPlace: boolean): Dtype {
  const gradDtype = options.gradDtype ?? dtype;
  if (!DTYPES.includes(gradDtype as Dtype)) {
    fail('type', `options.gradDtype must be one of ${DTYPES.map((d) => `'${d}'`).join(', ')}, got ${describeKind(gradDtype)}`);
  }
  if (options.gradDtype !== undefined && !grad) fail('range', 'options.gradDtype needs options.grad: true');
  if (gradDtype !== dtype && gradDtype !== 'float32') {
    fail('range', dtype === 'float32'
      ? `options.gradDtype is '${gradDtype}' but the logits are f32, whose gradient is f32: drop gradDtype`
      : `options.gradDtype must be the logits' dtype ('${dtype}') or 'float32', got '${gradDtype}'`);
  }
  if (gradInPlace && gradDtype !== dtype) {
    fail('range', `options.gradInPlace writes the gradient over the logits, in their dtype ('${dtype}'): it cannot `
      + `be options.gradDtype '${gradDtype}'`);
  }
  return gradDtype as Dtype;
}

export function readScalarOptions(options: ForwardOptionsIn, targetKind: TargetKind) {
  const reduction = options.reduction ?? DEFAULTS.reduction;
  if (!REDUCTIONS.includes(reduction as Reduction)) {
    fail('range', `options.reduction must be one of ${REDUCTIONS.join(', ')}, got ${describeKind(reduction)}`);
  }
  const input = options.input ?? DEFAULTS.input;
  if (!INPUT_KINDS.includes(input as InputKind)) {
    fail('range', `options.input must be one of ${INPUT_KINDS.join(', ')}, got ${describeKind(input)}`);
  }
  const ignoreIndex = options.ignoreIndex ?? DEFAULTS.ignoreIndex;
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex)
      || ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31) {
    fail('type', `options.ignoreIndex must be a 32-bit integer, got ${describeKind(ignoreIndex)}`);
  }
  if (targetKind === 'probabilities' && options.ignoreIndex !== undefined && ignoreIndex >= 0) {
    // PyTorch: "ignore_index is not supported for floating point target".
    fail('range', `options.ignoreIndex ${ignoreIndex} cannot apply to probability targets `
      + '(only class-index targets can be ignored)');
  }
  const labelSmoothing = options.labelSmoothing ?? DEFAULTS.labelSmoothing;
  if (typeof labelSmoothing !== 'number') {
    fail('type', `options.labelSmoothing must be a number, got ${describeKind(labelSmoothing)}`);
  }
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    fail('range', `options.labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  }
  const grad = readBoolean('options.grad', options.grad, DEFAULTS.grad);
  const gradInPlace = readBoolean('options.gradInPlace', options.gradInPlace, DEFAULTS.gradInPlace);
  if (gradInPlace && !grad) fail('range', 'options.gradInPlace needs options.grad: true');
  return {
    reduction: reduction as Reduction, input: input as InputKind, ignoreIndex, labelSmoothing,
    ...readLogitTransforms(options, input as InputKind), grad, gradInPlace,
  };
}

/**
 * Checks shapes, data kinds and lengths and the scalar options; returns the problem they describe.
 * Value checks (target indices, probabilities, weights) are separate: see `checkHostValues`.
 */
export function describeProblem(
  logitsIn: unknown, targetIn: unknown, optionsIn: unknown, accepted: AcceptedData,
): Problem {
  const logits = readTensor('logits', logitsIn);
  const target = readTensor('target', targetIn);
  const dtype = readDtype('logits', logits);
  checkF32Tensor('target', target);
  if (optionsIn !== undefined && (typeof optionsIn !== 'object' || optionsIn === null)) {
    fail('type', `options must be an object, got ${describeKind(optionsIn)}`);
  }
  const options = (optionsIn ?? {}) as ForwardOptionsIn;

  if (logits.shape.length === 0) {
    fail('range', 'logits.shape must have at least one dimension (classes), got []');
  }
  const layout = rowLayout(logits.shape);
  const classAxis = logits.shape.length === 1 ? 0 : 1;
  if (layout.classes < 1) {
    fail('range', `logits.shape[${classAxis}] (classes) must be at least 1, got ${layout.classes}`);
  }
  if (layout.rows > MAX_ROWS) {
    fail('range', `logits.shape ${formatShape(logits.shape)} has ${layout.rows} rows; the GPU indexes rows with `
      + `32 bits (at most ${MAX_ROWS})`);
  }
  checkLogitsData('logits.data', logits.data, dtype, accepted);
  checkLength('logits', logits, dtype, true);

  let targetKind: TargetKind;
  if (sameShape(target.shape, logits.shape)) {
    targetKind = 'probabilities';
    checkFloatData('target.data', target.data, accepted);
  } else if (sameShape(target.shape, layout.rowShape)) {
    targetKind = 'classIndex';
    if (!(target.data instanceof Int32Array) && !(accepted.gpuBuffers && isGpuBuffer(target.data))) {
      fail('type', `target.data for class indices must be an Int32Array${accepted.gpuBuffers ? ' or GPUBuffer' : ''}, `
        + `got ${describeKind(target.data)}`);
    }
    checkAttached('target.data', target.data);
  } else {
    fail('range', `target.shape ${formatShape(target.shape)} does not match logits.shape `
      + `${formatShape(logits.shape)}: expected ${formatShape(layout.rowShape)} (class indices) `
      + `or ${formatShape(logits.shape)} (class probabilities)`);
  }
  checkLength('target', target);

  const scalars = readScalarOptions(options, targetKind);
  return {
    logitsShape: logits.shape,
    targetShape: target.shape,
    layout,
    targetKind,
    ...scalars,
    dtype,
    gradDtype: readGradDtype(options, dtype, scalars.grad, scalars.gradInPlace),
  };
}

/** Checks the per-class weight: kind, length C, finite values. */
export function checkWeight(weight: unknown, classes: number, accepted: AcceptedData): void {
  const name = 'options.weight';
  if (accepted.gpuBuffers && isGpuBuffer(weight)) {
    checkGpuBuffer(name, weight, classes * 4, `${classes} classes need`);
    return;
  }
  checkFloatData(name, weight, accepted);
  const values = weight as Float32Array | Float64Array;
  if (values.length !== classes) {
    fail('range', `${name} has ${values.length} elements but the logits have ${classes} classes`);
  }
  checkFinite(name, values);
}

/** Checks every value of a host array is finite (weights: a NaN would silently poison the loss). */
export function checkFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) fail('range', `${name}[${i}] must be finite, got ${values[i]}`);
  }
}

/** Checks the upstream gradient: reduction 'none' only, one value per row. */
export function checkGradOutput(gradOutput: unknown, problem: Problem, accepted: AcceptedData): void {
  if (problem.reduction !== 'none') {
    fail('range', `options.gradOutput applies to reduction 'none' only, got reduction '${problem.reduction}'`);
  }
  if (!problem.grad) fail('range', 'options.gradOutput needs options.grad: true');
  checkFloatData('options.gradOutput', gradOutput, accepted);
  const rows = problem.layout.rows;
  if (isGpuBuffer(gradOutput)) {
    checkGpuBuffer('options.gradOutput', gradOutput, rows * 4, `the loss has ${rows} elements, which need`);
    return;
  }
  const length = (gradOutput as ArrayLike<number>).length;
  if (length !== rows) {
    fail('range', `options.gradOutput has ${length} elements but the loss has shape `
      + `${formatShape(problem.layout.rowShape)} (${rows} elements)`);
  }
}

/**
 * Checks values that live on the host: class indices in [0, C) or ignoreIndex, probability targets
 * and probability inputs in [0, 1]. GPU-resident data is checked on the GPU instead.
 */
export function checkHostValues(problem: Problem, logits: Data, target: Data): void {
  const { classes } = problem.layout;
  if (problem.targetKind === 'classIndex' && target instanceof Int32Array) {
    for (let i = 0; i < target.length; i++) {
      const y = target[i]!;
      if (y !== problem.ignoreIndex && (y < 0 || y >= classes)) {
        fail('range', `target${formatPosition(i, problem.targetShape)} = ${y} is out of bounds: `
          + `class indices must be in [0, ${classes - 1}] or ignoreIndex (${problem.ignoreIndex}) `
          + `(PyTorch: "Target ${y} is out of bounds.")`);
      }
    }
  }
  if (problem.targetKind === 'probabilities') checkUnitInterval('target', target, problem.targetShape);
  if (problem.input === 'probabilities') checkUnitInterval('logits', logits, problem.logitsShape);
}

/** Checks host values are probabilities (in [0, 1]; NaN is not); GPU data is skipped. */
export function checkUnitInterval(name: string, values: unknown, shape: readonly number[]): void {
  if (isGpuBuffer(values)) return;
  const array = values as ArrayLike<number>;
  for (let i = 0; i < array.length; i++) {
    const v = array[i]!;
    if (!(v >= 0 && v <= 1)) {
      fail('range', `${name}${formatPosition(i, shape)} = ${v} is not a probability: values must be in [0, 1]`);
    }
  }
}

/** Checks `CrossEntropy.create`'s options: names, a device that looks like a GPUDevice, a boolean. */
export function checkCreateOptions(options: unknown): void {
  if (isDeviceLike(options)) {
    fail('type', 'CrossEntropy.create: pass the device inside the options, as create({ device }), not as create(device)');
  }
  const { device, poisonOutputs, subgroups } = readOptionNames(options, 'CrossEntropy.create') as {
    device?: unknown; poisonOutputs?: unknown; subgroups?: unknown;
  };
  if (device !== undefined && !isDeviceLike(device)) {
    fail('type', `CrossEntropy.create: options.device must be a GPUDevice, got ${describeKind(device)}`);
  }
  readBoolean('CrossEntropy.create: options.poisonOutputs', poisonOutputs, false);
  if (subgroups !== undefined) readBoolean('CrossEntropy.create: options.subgroups', subgroups, false);
}

function isDeviceLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null
    && typeof (value as Partial<GPUDevice>).createBuffer === 'function' && 'queue' in value;
}

/** Checks that `options.encoder` is a GPUCommandEncoder (that forwardGpu can encode a pass into). */
export function checkEncoder(encoder: unknown): void {
  const looksLikeEncoder = typeof encoder === 'object' && encoder !== null
    && typeof (encoder as Partial<GPUCommandEncoder>).beginComputePass === 'function'
    && typeof (encoder as Partial<GPUCommandEncoder>).finish === 'function';
  if (!looksLikeEncoder) {
    fail('type', `CrossEntropy.forwardGpu: options.encoder must be a GPUCommandEncoder, got ${describeKind(encoder)}`);
  }
}
