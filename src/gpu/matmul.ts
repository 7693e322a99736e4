/**
 * The matrix products of the linear head (internal, not exported from the package): plans of
 * matmul.wgsl's dispatches from shapes, and their encoding given GPUBuffers.
 *
 *   logits    = H · Wᵀ (+ bias)   H [N, D], W [V, D]        → [N, V]   logitsProduct
 *   dH        = G · W             G [N, V], W [V, D]        → [N, D]   gradInputProduct
 *   dW (+)= Gᵀ · H                G [N, V], H [N, D]        → [V, D]   gradWeightProduct
 *
 * Each is out (+)= op(A) · op(B) with op(A) [M, K] and op(B) [K, P]. Operands are f32, row-major,
 * dense, and may start inside their buffer (offsets in elements), so that chunks of rows of one
 * buffer need no copies. Each operand is bound as the range of its buffer it spans, from the
 * aligned offset at or below its start (the rest of the offset goes in the uniform block), so a
 * buffer larger than one binding can be used a chunk at a time. `out` must be a buffer of its own
 * (WebGPU forbids a writable binding that overlaps another binding of the dispatch; a buffer of its
 * own rules that out without comparing ranges). Summing a
 * gradient over chunks of rows in a fixed order is one accumulating product per chunk, encoded in
 * that order.
 */
import { foldWorkgroups } from '../plan.js';
import { ELEMENT_BYTES } from './constants.js';
import { encodeDispatches, prepareDispatch, type PreparedDispatch } from './dispatch.js';
import type { KernelName } from './kernels.js';
import { WORKGROUP_SIZE, type Kernel, type Kernels, type MatmulVariant } from './pipelines.js';
import { MATMUL_PARAMS } from './shader-structs.js';
import { uniformBlock, uniformBlocks, type UniformBlock, type UniformBinding } from './uniforms.js';
import type { StructValues } from './wgsl-struct.js';

/** Rows and columns of the block of outputs one invocation computes (matmul.wgsl). */
export const MATMUL_BLOCK = 4;

/** The operands of a product, by binding name. */
export type MatmulOperand = 'a' | 'b' | 'bias' | 'out';

/** One product out (+)= op(A) · op(B) (+ bias): its shape, layouts and where its operands start. */
export interface MatmulProblem extends MatmulVariant {
  /** Rows of op(A) and of the output. */
  readonly m: number;
  /** Columns of op(B) and of the output. */
  readonly p: number;
  /** The summed dimension: columns of op(A), rows of op(B). */
  readonly k: number;
  /** Offsets in elements of A, B, the bias and the output in their buffers (0 by default). */
  readonly offsets?: Partial<Readonly<Record<MatmulOperand, number>>>;
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

/** logits [n, v] = H · Wᵀ (+ bias [v]). */
export function logitsProduct(shape: LinearShape, bias: boolean,
  offsets?: { h?: number; w?: number; bias?: number; logits?: number }): MatmulProblem {
  return { m: shape.n, p: shape.v, k: shape.d, aTransposed: false, bTransposed: true, accumulate: false, bias,
    offsets: { a: offsets?.h, b: offsets?.w, bias: offsets?.bias, out: offsets?.logits } };
}

/** dH [n, d] (+)= G · W. */
export function gradInputProduct(shape: LinearShape, accumulate: boolean,
  offsets?: { g?: number; w?: number; dh?: number }): MatmulProblem {
  return { m: shape.n, p: shape.d, k: shape.v, aTransposed: false, bTransposed: false, accumulate, bias: false,
    offsets: { a: offsets?.g, b: offsets?.w, out: offsets?.dh } };
}

/** dW [v, d] (+)= Gᵀ · H. */
export function gradWeightProduct(shape: LinearShape, accumulate: boolean,
  offsets?: { g?: number; h?: number; dw?: number }): MatmulProblem {
  return { m: shape.v, p: shape.d, k: shape.n, aTransposed: true, bTransposed: false, accumulate, bias: false,
    offsets: { a: offsets?.g, b: offsets?.h, out: offsets?.dw } };
}

const VEC4_KERNELS = {
  both: 'matmul', a: 'matmulVec4A', b: 'matmulVec4B', neither: 'matmulScalar',
} as const satisfies Record<string, KernelName>;

/**
 * The plan of `problem` on a device of `limits`. An operand is read through vec4s when its stored
 * rows and its offset are multiples of 4. Throws a RangeError for an empty or fractional
 * dimension, a negative offset, or an operand wider than one binding (the caller then cuts the
 * product into chunks).
 */
export function planMatmul(problem: MatmulProblem, limits: MatmulLimits): MatmulPlan {
  const { m, p, k } = problem;
  for (const [name, value] of [['m', m], ['p', p], ['k', k]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`matmul: ${name} must be a positive integer, not ${value}`);
  }
  const counts = { a: m * k, b: k * p, bias: problem.bias ? p : 0, out: m * p };
  const ranges: Partial<Record<MatmulOperand, ByteRange>> = {};
  const relative = { a: 0, b: 0, bias: 0, out: 0 };
  for (const name of ['a', 'b', 'bias', 'out'] as const) {
    const offset = problem.offsets?.[name] ?? 0;
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`matmul: offset of ${name} must be an integer ≥ 0, not ${offset}`);
    if (counts[name] === 0) continue;
    // The binding starts at the aligned byte at or below the operand; the kernel is told where the
    // operand starts within it.
    const start = Math.floor(offset * ELEMENT_BYTES / limits.minStorageBufferOffsetAlignment) * limits.minStorageBufferOffsetAlignment;
    const size = (offset + counts[name]) * ELEMENT_BYTES - start;
    if (size > limits.maxStorageBufferBindingSize) {
      throw new RangeError(`matmul: ${name} spans ${size} bytes, over this device's maxStorageBufferBindingSize `
        + `(${limits.maxStorageBufferBindingSize})`);
    }
    // The kernel indexes its bindings with u32s.
    if (size / ELEMENT_BYTES > 2 ** 32 - 1) throw new RangeError(`matmul: ${name} spans more elements than u32 indexing reaches`);
    ranges[name] = { offset: start, size };
    relative[name] = offset - start / ELEMENT_BYTES;
  }
  const aVec4 = (problem.aTransposed ? m : k) % 4 === 0 && relative.a % 4 === 0;
  const bVec4 = (problem.bTransposed ? k : p) % 4 === 0 && relative.b % 4 === 0;
  const kernel = VEC4_KERNELS[aVec4 ? (bVec4 ? 'both' : 'a') : bVec4 ? 'b' : 'neither'];
  const blocksP = Math.ceil(p / MATMUL_BLOCK);
  const invocations = Math.ceil(m / MATMUL_BLOCK) * blocksP;
  const variant: MatmulVariant = { aTransposed: problem.aTransposed, bTransposed: problem.bTransposed,
    accumulate: problem.accumulate, bias: problem.bias };
  return {
    problem, kernel, variant, invocations, ranges,
    params: { m, p, k, blocks_p: blocksP, a_offset: relative.a, b_offset: relative.b, bias_offset: relative.bias,
      out_offset: relative.out },
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
