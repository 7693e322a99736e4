/**
 * Rounding f32 values to 16-bit values packed two per 32-bit word (pack-half.wgsl), internal: the
 * linear head sums its 16-bit dH and dW in f32 and rounds them once, at the end, exactly as the
 * 16-bit gradient kernels round (to nearest, ties to even; lib/input-half.wgsl's half_words).
 *
 * The values go to elements dstOffset .. dstOffset + count - 1 of the destination (element e in
 * word e >> 1, the low half for an even e). Either end may fall inside a word (an odd dstOffset or
 * an odd end): that word's other half is kept (read and written back by the one invocation that
 * writes the word), so neighbouring ranges may be packed into one buffer by separate dispatches.
 * Offsets are in elements of each buffer; each is bound from the aligned byte at or below its
 * start, as src/gpu/matmul.ts binds its operands. `dst` must be a buffer other than `src`.
 */
import type { HalfDtype } from '../half-precision.js';
import { foldWorkgroups } from '../plan.js';
import { ELEMENT_BYTES } from './constants.js';
import { encodeDispatches, prepareDispatch, type PreparedDispatch } from './dispatch.js';
import type { ByteRange, MatmulLimits } from './matmul.js';
import { WORKGROUP_SIZE, type Kernel, type Kernels } from './pipelines.js';
import { PACK_HALF_PARAMS } from './shader-structs.js';
import { uniformBlock, uniformBlocks, type UniformBlock, type UniformBinding } from './uniforms.js';
import type { StructValues } from './wgsl-struct.js';

/** Bytes of a 16-bit value, and of the words they are packed in. */
const HALF_BYTES = 2;
const WORD_BYTES = 4;

/** Words one invocation writes. */
const WORDS_PER_INVOCATION = 2;

/** A planned packing: its values, uniform block, invocations and the ranges bound. */
export interface PackHalfPlan {
  readonly count: number;
  readonly dtype: HalfDtype;
  readonly params: StructValues<typeof PACK_HALF_PARAMS.fields>;
  /** One invocation per two destination words. */
  readonly invocations: number;
  readonly groups: readonly [number, number];
  readonly ranges: Readonly<Record<'src' | 'dst', ByteRange>>;
}

/** The two buffers of a packing. */
export interface PackHalfBuffers {
  readonly src: GPUBuffer;
  readonly dst: GPUBuffer;
}

/**
 * The plan of rounding `count` f32 values, from element `offsets.src` of their buffer (0 by
 * default), to `dtype` into elements `offsets.dst` on of a buffer of 16-bit values (0 by default;
 * odd is fine). Throws a RangeError for a count that is not a positive integer, a negative or
 * fractional offset, a dtype other than float16 and bfloat16, or a range wider than one binding.
 */
export function planPackHalf(count: number, dtype: HalfDtype, offsets: { src?: number; dst?: number },
  limits: MatmulLimits): PackHalfPlan {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`packHalf: count must be a positive integer, not ${count}`);
  if (dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new RangeError(`packHalf: dtype must be 'float16' or 'bfloat16', not ${String(dtype)}`);
  }
  const align = limits.minStorageBufferOffsetAlignment;
  const bound = (name: 'src' | 'dst', bytes: number) => {
    const offset = offsets[name] ?? 0;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new RangeError(`packHalf: offset of ${name} must be an integer ≥ 0, not ${offset}`);
    }
    const start = Math.floor(offset * bytes / align) * align;
    const size = Math.ceil((offset + count) * bytes / WORD_BYTES) * WORD_BYTES - start;
    if (size > limits.maxStorageBufferBindingSize) {
      throw new RangeError(`packHalf: ${name} spans ${size} bytes, over this device's maxStorageBufferBindingSize `
        + `(${limits.maxStorageBufferBindingSize})`);
    }
    return { range: { offset: start, size }, relative: offset - start / bytes };
  };
  const src = bound('src', ELEMENT_BYTES);
  const dst = bound('dst', HALF_BYTES);
  const words = ((dst.relative + count - 1) >> 1) - (dst.relative >> 1) + 1;
  const invocations = Math.ceil(words / WORDS_PER_INVOCATION);
  return {
    count, dtype, invocations,
    params: { count, src_offset: src.relative, dst_offset: dst.relative, pairs: invocations },
    groups: foldWorkgroups(invocations, WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension),
    ranges: { src: src.range, dst: dst.range },
  };
}

/** The plan's uniform block (to pack with others through uniformBlocks). */
export function packHalfUniform(plan: PackHalfPlan): UniformBlock {
  return uniformBlock(PACK_HALF_PARAMS, plan.params);
}

/** The packing kernel, compiled for the plan's dtype. */
export function packHalfKernel(kernels: Kernels, plan: PackHalfPlan): Promise<Kernel> {
  return kernels.get('packHalf', { dtype: plan.dtype });
}

/**
 * Binds the plan's ranges of `buffers` and its uniform block. Throws a RangeError where a buffer
 * is smaller than the plan's range in it, and an Error where `dst` is `src`.
 */
export function preparePackHalf(device: GPUDevice, kernel: Kernel, plan: PackHalfPlan, params: UniformBinding,
  buffers: PackHalfBuffers): PreparedDispatch {
  if (buffers.dst === buffers.src) throw new Error('packHalf: dst must be a buffer other than src');
  const bound = (name: 'src' | 'dst'): GPUBufferBinding => {
    const range = plan.ranges[name];
    if (buffers[name].size < range.offset + range.size) {
      throw new RangeError(`packHalf: ${name} needs ${range.offset + range.size} bytes, its buffer has ${buffers[name].size}`);
    }
    return { buffer: buffers[name], ...range };
  };
  return prepareDispatch(device, kernel, plan.invocations, { params, src: bound('src'), dst: bound('dst') })!;
}

/**
 * Encodes one packing into `encoder` in a compute pass of its own, with a uniform buffer of its own
 * made by `create` (the caller destroys it once the work is submitted); returns that buffer.
 */
export function encodePackHalf(device: GPUDevice, kernel: Kernel, encoder: GPUCommandEncoder, plan: PackHalfPlan,
  buffers: PackHalfBuffers, create: (bytes: number, usage: number) => GPUBuffer): GPUBuffer {
  const [params] = uniformBlocks(device, device.limits.minUniformBufferOffsetAlignment, create, [packHalfUniform(plan)]);
  encodeDispatches(encoder, 'cross-entropy:packHalf', [preparePackHalf(device, kernel, plan, params!, buffers)]);
  return params!.buffer;
}
