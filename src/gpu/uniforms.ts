/**
 * The uniform blocks of one call, packed into one buffer at offsets the device accepts, so a call
 * writes all its parameters with a single writeBuffer. Each block's layout mirrors a `Params`
 * struct of a shader (row-common.wgsl, batch-reduce.wgsl, binary.wgsl).
 */
import type { Problem } from '../options.js';
import type { Piece, ReduceLevel, WorkPlan } from '../plan.js';
import { BufferUsage } from './constants.js';

const REDUCTION_CODES = { mean: 0, sum: 1, none: 2 } as const;
/** batch-reduce's `divide`: keep the sum, divide by the summed weights, or by a fixed count. */
export const Divide = { none: 0, byWeight: 1, byCount: 2 } as const;

/** A block's field writer: every field is 4 bytes, in struct order. */
export type Field = { u32: number } | { i32: number } | { f32: number };

/** Where a block lives in the packed buffer. */
export type UniformBinding = GPUBufferBinding & { size: number };

/**
 * Packs blocks into one uniform buffer: `uniformBlocks(device, alignment, create, blocks)` returns
 * one binding per block, in order. `alignment` is the device's minUniformBufferOffsetAlignment.
 */
export function uniformBlocks(device: GPUDevice, alignment: number,
  create: (bytes: number, usage: number) => GPUBuffer, blocks: readonly (readonly Field[])[]): UniformBinding[] {
  // WGSL rounds a uniform struct's size up to 16 bytes; each block starts at an aligned offset.
  const sizes = blocks.map((fields) => Math.ceil((fields.length * 4) / 16) * 16);
  const offsets: number[] = [];
  let bytes = 0;
  for (const size of sizes) {
    offsets.push(bytes);
    bytes = Math.ceil((bytes + size) / alignment) * alignment;
  }
  const view = new DataView(new ArrayBuffer(bytes));
  blocks.forEach((fields, b) => fields.forEach((field, i) => {
    const at = offsets[b]! + 4 * i;
    if ('u32' in field) view.setUint32(at, field.u32, true);
    else if ('i32' in field) view.setInt32(at, field.i32, true);
    else view.setFloat32(at, field.f32, true);
  }));
  const buffer = create(bytes, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
  device.queue.writeBuffer(buffer, 0, view.buffer);
  return sizes.map((size, b) => ({ buffer, offset: offsets[b]!, size }));
}

/** row-common.wgsl `Params` (what is not an override constant of the pipeline). */
export function rowParams(problem: Problem, plan: WorkPlan, piece: Piece, flags: {
  classOffset?: number; sharded?: boolean; hasGradOutput?: boolean;
}): Field[] {
  return [
    { u32: piece.rows },
    { u32: plan.classes },
    { u32: plan.inner },
    { u32: plan.chunks },
    { u32: plan.chunkLen },
    { i32: problem.ignoreIndex },
    { f32: problem.labelSmoothing },
    { i32: flags.classOffset ?? 0 },
    { u32: flags.sharded ? 1 : 0 },
    { f32: problem.softcap },
    { f32: problem.zLoss },
    { u32: REDUCTION_CODES[problem.reduction] },
    { u32: flags.hasGradOutput ? 1 : 0 },
    { u32: piece.firstRow },
  ];
}

/** batch-reduce.wgsl `Params` of one level. */
export function reduceParams(level: ReduceLevel, divide: number, denominator = 0): Field[] {
  return [{ u32: level.count }, { u32: level.chunk }, { u32: divide }, { f32: denominator }];
}
