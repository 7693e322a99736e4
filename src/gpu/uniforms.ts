/**
 * The uniform blocks of one call, packed into one buffer at offsets the device accepts, so a call
 * writes all its parameters with a single writeBuffer. Each block is a struct of shader-structs.ts.
 */
import { BufferUsage } from './constants.js';
import { writeStruct, type StructFields, type StructLayout, type StructValues } from './wgsl-struct.js';

/** A uniform block: a struct's layout and its values. */
export interface UniformBlock<F extends StructFields = StructFields> {
  readonly layout: StructLayout<F>;
  readonly values: StructValues<F>;
}

export function uniformBlock<F extends StructFields>(layout: StructLayout<F>, values: StructValues<F>): UniformBlock {
  return { layout, values } as UniformBlock;
}

/** Where a block lives in the packed buffer. */
export type UniformBinding = GPUBufferBinding & { size: number };

/**
 * Packs blocks into one uniform buffer: `uniformBlocks(device, alignment, create, blocks)` returns
 * one binding per block, in order. `alignment` is the device's minUniformBufferOffsetAlignment.
 */
export function uniformBlocks(device: GPUDevice, alignment: number,
  create: (bytes: number, usage: number) => GPUBuffer, blocks: readonly UniformBlock[]): UniformBinding[] {
  // WGSL rounds a uniform struct's size up to 16 bytes; each block starts at an aligned offset.
  const sizes = blocks.map((block) => Math.ceil(block.layout.byteSize / 16) * 16);
  const offsets: number[] = [];
  let bytes = 0;
  for (const size of sizes) {
    offsets.push(bytes);
    bytes = Math.ceil((bytes + size) / alignment) * alignment;
  }
  const view = new DataView(new ArrayBuffer(bytes));
  blocks.forEach((block, b) => writeStruct(view, offsets[b]!, block.layout, block.values));
  const buffer = create(bytes, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
  device.queue.writeBuffer(buffer, 0, view.buffer);
  return sizes.map((size, b) => ({ buffer, offset: offsets[b]!, size }));
}
