/**
 * The matrix products of the linear head (internal, not exported from the package): plans of
 * matmul.wgsl's dispatches from shapes, and their encoding given GPUBuffers.
 *
 *   logits    = H · Wᵀ (+ bias)   H [N, D], W [V, D]        → [N, V]   logitsProduct
 *   dH        = G · W             G [N, V], W [V, D]        → [N, D]   gradInputProduct
 *   dW (+)= Gᵀ · H                G [N, V], H [N, D]        → [V, D]   gradWeightProduct
 *
 * Each is out (+)= op(A) · op(B) with op(A) [M, K] and op(B) [K, P]. Operands are row-major, f32
 * or (A and B) 16-bit values packed two per 32-bit word (element e in word e >> 1, the low half for
 * an even e), each converted to f32 exactly; the arithmetic, the bias and the output are f32.
 * Operands may start inside their buffer (offsets in elements), so that chunks of rows of one
 * buffer need no copies; A, B and out may have row strides of their own (elements between the starts of
 * consecutive stored rows), so that a slice of the vocabulary [v0, v1) of logits or G [N, V] is
 * written or read in place (stride V, offset v0). Each operand is bound as the range of its buffer it spans, from the
 * aligned offset at or below its start (the rest of the offset goes in the uniform block), so a
 * buffer larger than one binding can be used a chunk at a time. `out` must be a buffer of its own
 * (WebGPU forbids a writable binding that overlaps another binding of the dispatch; a buffer of its
 * own rules that out without comparing ranges). Summing a
 * gradient over chunks of rows in a fixed order is one accumulating product per chunk, encoded in
 * that order.
 */
import type { HalfDtype } from '../half-precision.js';
import { foldWorkgroups } from '../plan.js';
import type { Dtype } from '../types.js';
import { ELEMENT_BYTES } from './constants.js';
import { encodeDispatches, prepareDispatch, type PreparedDispatch } from './dispatch.js';
import type { KernelName } from './kernels.js';
import { WORKGROUP_SIZE, type Kernel, type Kernels, type MatmulStorage, type MatmulVariant } from './pipelines.js';
import { MATMUL_PARAMS } from './shader-structs.js';
import { uniformBlock, uniformBlocks, type UniformBlock, type UniformBinding } from './uniforms.js';
import type { StructValues } from './wgsl-struct.js';

/** Rows and columns of the block of outputs one invocation computes (matmul.wgsl). */
export const MATMUL_BLOCK = 4;

/** Bytes of a 16-bit value, and of the words they are packed in. */
const HALF_BYTES = 2;
const WORD_BYTES = 4;

/** The operands of a product, by binding name. */
export type MatmulOperand = 'a' | 'b' | 'bias' | 'out';

/** The operands stored as rows of their own stride (the bias is one row). */
export type StridedOperand = 'a' | 'b' | 'out';

/** What a product computes: which operand is transposed, whether it accumulates, a bias. */
export type MatmulProduct = Pick<MatmulVariant, 'aTransposed' | 'bTransposed' | 'accumulate' | 'bias'>;

/** One product out (+)= op(A) · op(B) (+ bias): its shape, layouts and where its operands start. */
export interface MatmulProblem extends MatmulProduct {
  /** Rows of op(A) and of the output. */
  readonly m: number;
  /** Columns of op(B) and of the output. */
  readonly p: number;
  /** The summed dimension: columns of op(A), rows of op(B). */
  readonly k: number;
  /** Offsets in elements of A, B, the bias and the output in their buffers (0 by default). */
  readonly offsets?: Partial<Readonly<Record<MatmulOperand, number>>>;
  /**
   * Elements between the starts of consecutive stored rows of A, B and the output, at least a
   * stored row's length, which they are by default: A [M, K] (K) or, transposed, [K, M] (M); B
   * [K, P] (P) or, transposed, [P, K] (K); the output [M, P] (P).
   */
  readonly strides?: Partial<Readonly<Record<StridedOperand, number>>>;
  /**
   * How A and B are stored ('float32' by default): a 16-bit operand is packed two values per
   * 32-bit word, its offset and stride still in elements. Two 16-bit operands share one format.
   */
  readonly dtypes?: Partial<Readonly<Record<'a' | 'b', Dtype>>>;
  /**
   * Split K into runs of `splitK` k (a multiple of 4): each run's product is written as a partial
   * product of its own, [M, P] with the output's stride, one after another from the output's offset
   * (run r at out offset + r·M·stride). The caller sums them in run order (`partialSum`). Parallel
   * work for a product with few blocks and a long K. Not with `accumulate`.
   */
  readonly splitK?: number;
}

/** A binding's range of its buffer, in bytes. */
export interface ByteRange {
  readonly offset: number;
  readonly size: number;
}

/** A planned product: which kernel, specialised how, its uniform block's values and its workgroups. */
export interface MatmulPlan {
  readonly problem: MatmulProblem;
  readonly kernel: KernelName;
  readonly variant: MatmulVariant;
  readonly params: StructValues<typeof MATMUL_PARAMS.fields>;
  /** One invocation per block of outputs. */
  readonly invocations: number;
  /** Workgroups, folded into two dimensions. */
  readonly groups: readonly [number, number];
  /** The range of its buffer each operand is bound as (none for an absent bias). */
  readonly ranges: Readonly<Partial<Record<MatmulOperand, ByteRange>>>;
}

/** The device limits a plan depends on. */
export type MatmulLimits = Pick<GPUSupportedLimits, 'maxComputeWorkgroupsPerDimension' | 'minStorageBufferOffsetAlignment'
  | 'maxStorageBufferBindingSize'>;

/** What the three products of the linear head take: H [n, d], W [v, d], G [n, v]. */
export interface LinearShape {
  readonly n: number;
  readonly v: number;
  readonly d: number;
}

/**
 * logits [n, v] = H · Wᵀ (+ bias [v]); offsets and row strides in elements, by operand (absent:
 * 0, and dense rows). Logits of the vocabulary slice [v0, v0 + v) of a [n, V] buffer:
 * `logitsProduct({ n, v, d }, bias, { w: v0 * d, bias: v0, logits: v0 }, { logits: V })`.
 */
export function logitsProduct(shape: LinearShape, bias: boolean,
  offsets?: { h?: number; w?: number; bias?: number; logits?: number },
  strides?: { h?: number; w?: number; logits?: number }): MatmulProblem {
  return { m: shape.n, p: shape.v, k: shape.d, aTransposed: false, bTransposed: true, accumulate: false, bias,
    offsets: { a: offsets?.h, b: offsets?.w, bias: offsets?.bias, out: offsets?.logits },
    strides: { a: strides?.h, b: strides?.w, out: strides?.logits } };
}

/**
 * dH [n, d] (+)= G · W. Over the vocabulary slice [v0, v0 + v) of G [n, V]:
 * `gradInputProduct({ n, v, d }, accumulate, { g: v0, w: v0 * d }, { g: V })`.
 */
export function gradInputProduct(shape: LinearShape, accumulate: boolean,
  offsets?: { g?: number; w?: number; dh?: number },
  strides?: { g?: number; w?: number; dh?: number }): MatmulProblem {
  return { m: shape.n, p: shape.d, k: shape.v, aTransposed: false, bTransposed: false, accumulate, bias: false,
    offsets: { a: offsets?.g, b: offsets?.w, out: offsets?.dh },
    strides: { a: strides?.g, b: strides?.w, out: strides?.dh } };
}

/**
 * dW [v, d] (+)= Gᵀ · H. The rows [v0, v0 + v) of dW from the same slice of G [n, V]:
 * `gradWeightProduct({ n, v, d }, accumulate, { g: v0, dw: v0 * d }, { g: V })`.
 */
export function gradWeightProduct(shape: LinearShape, accumulate: boolean,
  offsets?: { g?: number; h?: number; dw?: number },
  strides?: { g?: number; h?: number; dw?: number }): MatmulProblem {
  return { m: shape.v, p: shape.d, k: shape.n, aTransposed: true, bTransposed: false, accumulate, bias: false,
    offsets: { a: offsets?.g, b: offsets?.h, out: offsets?.dw },
    strides: { a: strides?.g, b: strides?.h, out: strides?.dw } };
}

/**
 * The sum, in run order, of the `splits` partial products [m, p] of a split product (each p wide,
 * one after another from `offsets.partials`): out[1, m·p] (+)= ones[1, splits] · partials[splits, m·p],
 * written as m·p contiguous elements from `offsets.out`. `ones` holds at least `splits` ones.
 */
export function partialSum(m: number, p: number, splits: number, accumulate: boolean,
  offsets?: { ones?: number; partials?: number; out?: number }): MatmulProblem {
  return { m: 1, p: m * p, k: splits, aTransposed: false, bTransposed: false, accumulate, bias: false,
    offsets: { a: offsets?.ones, b: offsets?.partials, out: offsets?.out } };
}

const VEC4_KERNELS = {
  both: 'matmul', a: 'matmulVec4A', b: 'matmulVec4B', neither: 'matmulScalar',
} as const satisfies Record<string, KernelName>;

/** How an operand is stored: its rows, their length, the stride between their starts, bytes per element. */
interface StoredRows {
  readonly rows: number;
  readonly length: number;
  readonly stride: number;
  readonly bytes: number;
}

/** The stored rows of each operand of `problem` (none for an absent bias). */
function storedRows(problem: MatmulProblem, splits: number): Partial<Record<MatmulOperand, StoredRows>> {
  const { m, p, k } = problem;
  const shapes: Record<StridedOperand, readonly [number, number]> = {
    a: problem.aTransposed ? [k, m] : [m, k],
    b: problem.bTransposed ? [p, k] : [k, p],
    // A split product's partials: its runs' [M, P] one after another.
    out: [m * splits, p],
  };
  const stored: Partial<Record<MatmulOperand, StoredRows>> = problem.bias
    ? { bias: { rows: 1, length: p, stride: p, bytes: ELEMENT_BYTES } } : {};
  for (const name of ['a', 'b', 'out'] as const) {
    const [rows, length] = shapes[name];
    const stride = problem.strides?.[name] ?? length;
    if (!Number.isInteger(stride) || stride < length) {
      throw new RangeError(`matmul: stride of ${name} must be an integer ≥ its rows' length (${length}), not ${stride}`);
    }
    const dtype = name === 'out' ? 'float32' : problem.dtypes?.[name] ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float16' && dtype !== 'bfloat16') {
      throw new RangeError(`matmul: dtype of ${name} must be 'float32', 'float16' or 'bfloat16', not ${String(dtype)}`);
    }
    stored[name] = { rows, length, stride, bytes: dtype === 'float32' ? ELEMENT_BYTES : HALF_BYTES };
  }
  return stored;
}

/**
 * How the kernel reads an operand through its words: f32, or 16-bit with every run of four
 * starting a word (an even offset in its binding and an even stride), or not.
 */
function storageOf(rows: StoredRows, relative: number): MatmulStorage {
  if (rows.bytes === ELEMENT_BYTES) return 'float32';
  return relative % 2 === 0 && rows.stride % 2 === 0 ? 'halfAligned' : 'half';
}

/**
 * The plan of `problem` on a device of `limits`. An f32 operand is read through vec4s when its
 * stored rows' length, its stride and its offset are multiples of 4. Each operand is bound from the
 * aligned byte at or below its start to the end of its last row (of a 16-bit operand, to the end
 * of the word that holds its last element). Throws a RangeError for an empty or fractional
 * dimension, a negative offset, a stride shorter than a row, an unknown dtype, two 16-bit operands
 * of different formats, or an operand wider than one binding (the caller then cuts the product
 * into chunks).
 */
export function planMatmul(problem: MatmulProblem, limits: MatmulLimits): MatmulPlan {
  const { m, p, k } = problem;
  for (const [name, value] of [['m', m], ['p', p], ['k', k]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`matmul: ${name} must be a positive integer, not ${value}`);
  }
  const splitK = problem.splitK ?? k;
  if (problem.splitK !== undefined && (!Number.isInteger(splitK) || splitK < 4 || splitK % 4 !== 0 || problem.accumulate)) {
    throw new RangeError(`matmul: splitK must be a positive multiple of 4, without accumulate, not ${splitK}`);
  }
  const splits = Math.ceil(k / splitK);
  const stored = storedRows(problem, splits);
  const halfDtypes = [problem.dtypes?.a, problem.dtypes?.b].filter((dtype) => dtype !== undefined && dtype !== 'float32');
  if (new Set(halfDtypes).size > 1) {
    throw new RangeError(`matmul: 16-bit operands must share one format, not ${halfDtypes.join(' and ')}`);
  }
  const ranges: Partial<Record<MatmulOperand, ByteRange>> = {};
  const relative = { a: 0, b: 0, bias: 0, out: 0 };
  for (const name of ['a', 'b', 'bias', 'out'] as const) {
    const offset = problem.offsets?.[name] ?? 0;
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`matmul: offset of ${name} must be an integer ≥ 0, not ${offset}`);
    const rows = stored[name];
    if (rows === undefined) continue;
    // The binding starts at the aligned byte at or below the operand; the kernel is told where the
    // operand starts within it. It ends with the last stored row.
    const start = Math.floor(offset * rows.bytes / limits.minStorageBufferOffsetAlignment) * limits.minStorageBufferOffsetAlignment;
    const end = Math.ceil((offset + (rows.rows - 1) * rows.stride + rows.length) * rows.bytes / WORD_BYTES) * WORD_BYTES;
    const size = end - start;
    if (size > limits.maxStorageBufferBindingSize) {
      throw new RangeError(`matmul: ${name} spans ${size} bytes, over this device's maxStorageBufferBindingSize `
        + `(${limits.maxStorageBufferBindingSize})`);
    }
    // The kernel indexes its bindings with u32s.
    if (size / rows.bytes > 2 ** 32 - 1) throw new RangeError(`matmul: ${name} spans more elements than u32 indexing reaches`);
    ranges[name] = { offset: start, size };
    relative[name] = offset - start / rows.bytes;
  }
  const vec4 = (name: 'a' | 'b') => stored[name]!.bytes === ELEMENT_BYTES && stored[name]!.length % 4 === 0
    && stored[name]!.stride % 4 === 0 && relative[name] % 4 === 0;
  const aVec4 = vec4('a');
  const bVec4 = vec4('b');
  const kernel = VEC4_KERNELS[aVec4 ? (bVec4 ? 'both' : 'a') : bVec4 ? 'b' : 'neither'];
  const blocksP = Math.ceil(p / MATMUL_BLOCK);
  const invocations = Math.ceil(m / MATMUL_BLOCK) * blocksP * splits;
  const variant: MatmulVariant = { aTransposed: problem.aTransposed, bTransposed: problem.bTransposed,
    accumulate: problem.accumulate, bias: problem.bias, aStorage: storageOf(stored.a!, relative.a),
    bStorage: storageOf(stored.b!, relative.b), ...(halfDtypes.length > 0 ? { halfFormat: halfDtypes[0] as HalfDtype } : {}) };
  return {
    problem, kernel, variant, invocations, ranges,
    params: { m, p, k, blocks_p: blocksP, a_offset: relative.a, b_offset: relative.b, bias_offset: relative.bias,
      out_offset: relative.out, a_stride: stored.a!.stride, b_stride: stored.b!.stride, out_stride: stored.out!.stride,
      split_k: splitK, splits, out_split_step: m * stored.out!.stride },
    groups: foldWorkgroups(invocations, WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension),
  };
}

/** The plan's uniform block (to pack with others through uniformBlocks). */
export function matmulUniform(plan: MatmulPlan): UniformBlock {
  return uniformBlock(MATMUL_PARAMS, plan.params);
}

/** The plan's kernel, compiled for its variant. */
export function matmulKernel(kernels: Kernels, plan: MatmulPlan): Promise<Kernel> {
  return kernels.get(plan.kernel, plan.variant);
}

/** The buffers of one product; `bias` only where the plan has one. */
export interface MatmulBuffers {
  readonly a: GPUBuffer;
  readonly b: GPUBuffer;
  readonly bias?: GPUBuffer;
  readonly out: GPUBuffer;
}

/**
 * Binds the plan's ranges of `buffers` and its uniform block. Throws a RangeError where a buffer
 * is smaller than what the plan reads or writes in it.
 */
export function prepareMatmul(device: GPUDevice, kernel: Kernel, plan: MatmulPlan, params: UniformBinding,
  buffers: MatmulBuffers): PreparedDispatch {
  if (plan.problem.bias !== (buffers.bias !== undefined)) {
    throw new Error(`matmul: the plan ${plan.problem.bias ? 'has' : 'has no'} bias, and a bias buffer was ${buffers.bias ? '' : 'not '}given`);
  }
  if (buffers.out === buffers.a || buffers.out === buffers.b || buffers.out === buffers.bias) {
    throw new Error('matmul: out must be a buffer of its own');
  }
  const bound = (name: MatmulOperand): GPUBufferBinding => {
    const buffer = buffers[name]!;
    const range = plan.ranges[name]!;
    if (buffer.size < range.offset + range.size) {
      throw new RangeError(`matmul: ${name} needs ${range.offset + range.size} bytes, its buffer has ${buffer.size}`);
    }
    return { buffer, ...range };
  };
  const a = bound('a');
  // Without a bias the kernel still binds one (not read): A's range stands in.
  return prepareDispatch(device, kernel, plan.invocations, { params, a, b: bound('b'),
    bias: buffers.bias ? bound('bias') : a, out: bound('out') })!;
}

/**
 * Encodes one product into `encoder` in a compute pass of its own, with a uniform buffer of its
 * own made by `create` (the caller destroys it once the work is submitted); returns that buffer.
 */
export function encodeMatmul(device: GPUDevice, kernel: Kernel, encoder: GPUCommandEncoder, plan: MatmulPlan,
  buffers: MatmulBuffers, create: (bytes: number, usage: number) => GPUBuffer): GPUBuffer {
  const [params] = uniformBlocks(device, device.limits.minUniformBufferOffsetAlignment, create, [matmulUniform(plan)]);
  encodeDispatches(encoder, `cross-entropy:${plan.kernel}`, [prepareMatmul(device, kernel, plan, params!, buffers)]);
  return params!.buffer;
}
