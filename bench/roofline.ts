/**
 * The roofline kernels: the fastest passes that read every logit once (the floor for a forward
 * pass) or read and write every logit once (the floor for forward + gradient), followed by the same
 * 4-byte readback the loss needs; and their exp floors, the same passes taking exp of every value
 * (the least arithmetic of any softmax). Pipelines, bind groups and buffers are made once per source.
 */
import readSource from './roofline-read.wgsl?raw';
import copySource from './roofline-copy.wgsl?raw';

const WORKGROUP = 64;
/** Invocations one pass aims for: enough to keep every core's SIMD lanes busy. */
const TARGET_INVOCATIONS = 8192;
const MIN_CHUNK = 16;
const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const UNIFORM = 0x40;
const MAP_READ = 0x01;

interface Pass {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly groups: [number, number];
}

function fold(invocations: number, device: GPUDevice): [number, number] {
  const groups = Math.ceil(invocations / WORKGROUP);
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/** Byte ranges of a buffer that fit one storage binding, split at vec4 boundaries. */
export function bindingPieces(bytes: number, limit: number, alignment: number): { offset: number; size: number }[] {
  const step = Math.floor(limit / alignment) * alignment;
  const pieces = [];
  for (let offset = 0; offset < bytes; offset += step) pieces.push({ offset, size: Math.min(step, bytes - offset) });
  return pieces;
}

export class Roofline {
  readonly #device: GPUDevice;
  readonly #read: GPUComputePipeline;
  readonly #copy: GPUComputePipeline;
  readonly #expRead: GPUComputePipeline;
  readonly #expCopy: GPUComputePipeline;
  readonly #staging: GPUBuffer;
  readonly #tiny: GPUBuffer;
  readonly #owned: GPUBuffer[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
    const make = (code: string, label: string, applyExp = false) => device.createComputePipeline({
      label, layout: 'auto',
      compute: { module: device.createShaderModule({ label, code }), entryPoint: 'main',
                 constants: { workgroup_size: WORKGROUP, APPLY_EXP: applyExp ? 1 : 0 } },
    });
    this.#read = make(readSource, 'roofline-read');
    this.#copy = make(copySource, 'roofline-copy');
    this.#expRead = make(readSource, 'floor-exp-read', true);
    this.#expCopy = make(copySource, 'floor-exp-copy', true);
    this.#staging = this.#buffer(16, MAP_READ | COPY_DST);
    this.#tiny = this.#buffer(16, STORAGE | COPY_SRC);
  }

  #buffer(size: number, usage: number): GPUBuffer {
    const buffer = this.#device.createBuffer({ size, usage });
    this.#owned.push(buffer);
    return buffer;
  }

  /** A pass over `source` (vec4s) with `chunk` vec4s per invocation (default: ~TARGET_INVOCATIONS). */
  #pass(pipeline: GPUComputePipeline, source: GPUBufferBinding & { size: number }, destination: GPUBuffer,
    destinationOffset: number, chunkOverride?: number): Pass {
    const count = source.size / 16;
    const chunk = chunkOverride ?? Math.max(MIN_CHUNK, Math.ceil(count / TARGET_INVOCATIONS));
    const invocations = Math.ceil(count / chunk);
    const params = this.#buffer(16, UNIFORM | COPY_DST);
    this.#device.queue.writeBuffer(params, 0, new Uint32Array([count, chunk, 0, 0]));
    const destinationSize = pipeline === this.#read || pipeline === this.#expRead ? invocations * 16 : source.size;
    const bindGroup = this.#device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: params } },
        { binding: 1, resource: source },
        { binding: 2, resource: { buffer: destination, offset: destinationOffset, size: destinationSize } },
      ],
    });
    return { pipeline, bindGroup, groups: fold(invocations, this.#device) };
  }

  /**
   * A prepared read of a GPU buffer of `bytes` bytes: returns a function that runs it once. With
   * `applyExp`, the sum is of exp(value) (the partials are then summed as they are).
   */
  prepareRead(source: GPUBuffer, bytes: number, applyExp = false): () => Promise<number> {
    const limits = this.#device.limits;
    const pieces = bindingPieces(bytes, limits.maxStorageBufferBindingSize, limits.minStorageBufferOffsetAlignment);
    // Each piece writes its partial sums; one invocation then sums all partials of all pieces.
    const passes: Pass[] = [];
    // Each piece's slot of partials starts at an offset the device accepts for a binding.
    const slotAlign = limits.minStorageBufferOffsetAlignment / 16;
    const partialCounts = pieces.map((piece) => {
      const count = Math.ceil(piece.size / 16 / Math.max(MIN_CHUNK, Math.ceil(piece.size / 16 / TARGET_INVOCATIONS)));
      return Math.ceil(count / slotAlign) * slotAlign;
    });
    const totalPartials = partialCounts.reduce((a, b) => a + b, 0);
    const partials = this.#buffer(totalPartials * 16, STORAGE | COPY_SRC);
    let at = 0;
    pieces.forEach((piece, i) => {
      passes.push(this.#pass(applyExp ? this.#expRead : this.#read, { buffer: source, ...piece }, partials, at * 16));
      at += partialCounts[i]!;
    });
    const total = this.#buffer(16, STORAGE | COPY_SRC);
    passes.push(this.#pass(this.#read, { buffer: partials, offset: 0, size: totalPartials * 16 }, total, 0, totalPartials));
    return () => this.#run(passes, total);
  }

  /** A prepared copy of a GPU buffer into another of the same size (of exp(value), with `applyExp`). */
  prepareCopy(source: GPUBuffer, destination: GPUBuffer, bytes: number, applyExp = false): () => Promise<number> {
    const limits = this.#device.limits;
    const pieces = bindingPieces(bytes, limits.maxStorageBufferBindingSize, limits.minStorageBufferOffsetAlignment);
    const pipeline = applyExp ? this.#expCopy : this.#copy;
    const passes = pieces.map((piece) => this.#pass(pipeline, { buffer: source, ...piece }, destination, piece.offset));
    return () => this.#run(passes, destination);
  }

  /** A read of host data streamed through GPU buffers of one binding each (for data over maxBufferSize). */
  prepareStreamedRead(data: Float32Array, pieceBytes: number): () => Promise<number> {
    const piece = this.#buffer(pieceBytes, STORAGE | COPY_DST);
    const reader = this.prepareRead(piece, pieceBytes);
    return async () => {
      let last = 0;
      for (let offset = 0; offset < data.byteLength; offset += pieceBytes) {
        const size = Math.min(pieceBytes, data.byteLength - offset);
        this.#device.queue.writeBuffer(piece, 0, data.buffer, data.byteOffset + offset, size);
        last = await reader();
      }
      return last;
    };
  }

  async #run(passes: readonly Pass[], result: GPUBuffer): Promise<number> {
    const encoder = this.#device.createCommandEncoder();
    const compute = encoder.beginComputePass();
    for (const pass of passes) {
      compute.setPipeline(pass.pipeline);
      compute.setBindGroup(0, pass.bindGroup);
      compute.dispatchWorkgroups(...pass.groups);
    }
    compute.end();
    encoder.copyBufferToBuffer(result, 0, this.#staging, 0, 16);
    this.#device.queue.submit([encoder.finish()]);
    await this.#staging.mapAsync(MAP_READ);
    const [a, b, c, d] = new Float32Array(this.#staging.getMappedRange(0, 16));
    const value = a! + b! + c! + d!;
    this.#staging.unmap();
    return value;
  }

  /** An empty submit and a 4-byte readback: the floor of any round trip. */
  async emptyRoundTrip(): Promise<number> {
    return this.#run([], this.#tiny);
  }

  destroy(): void {
    for (const buffer of this.#owned) buffer.destroy();
  }
}
