/**
 * The roofline kernels: the fastest passes that read every logit once (the floor for a forward
 * pass) or read and write every logit once (the floor for forward + gradient), followed by the same
 * 4-byte readback the loss needs; and their exp floors, the same passes taking exp of every value
 * (the least arithmetic of any softmax). Pipelines, bind groups and buffers are made once per source,
 * and each pass is tuned to the adapter: of a few ways to share the values among invocations, the
 * one that runs fastest there is kept (a CPU adapter wants few long runs, a GPU many).
 */
import readSource from './roofline-read.wgsl?raw';
import copySource from './roofline-copy.wgsl?raw';

const WORKGROUP = 64;
/**
 * Invocations a pass may aim for, tried on the adapter and the fastest kept: on SwiftShader (two
 * cores) 2,048 long runs read [4096, 1000] in about 0.75x the time of 8,192 shorter ones, while a
 * GPU with thousands of lanes needs the most.
 */
const INVOCATION_TARGETS = [2048, 8192, 32768, 131072];
const MIN_CHUNK = 16;
/** Timed runs of each candidate pass when tuning (after one untimed run): the fastest run counts. */
const TUNING_RUNS = 2;
const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const UNIFORM = 0x40;
const MAP_READ = 0x01;

/** A pass ready to run, and the buffers made for it alone (freed if the tuner passes it over). */
interface Candidate {
  readonly run: () => Promise<number>;
  readonly buffers: readonly GPUBuffer[];
}

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

/** Vec4s per invocation for about `target` invocations over `bytes` of values. */
function chunkFor(bytes: number, target: number): number {
  return Math.max(MIN_CHUNK, Math.ceil(bytes / 16 / target));
}

/** The invocation targets that give different chunk lengths for `bytes` of values (small data: one). */
function distinctTargets(bytes: number): number[] {
  const chunks = new Set<number>();
  return INVOCATION_TARGETS.filter((target) => {
    const chunk = chunkFor(bytes, target);
    if (chunks.has(chunk)) return false;
    chunks.add(chunk);
    return true;
  });
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
  #owned: GPUBuffer[] = [];

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

  /** A pass over `source` (vec4s) with `chunk` vec4s per invocation. */
  #pass(pipeline: GPUComputePipeline, source: GPUBufferBinding & { size: number }, destination: GPUBuffer,
    destinationOffset: number, chunk: number): Pass {
    const count = source.size / 16;
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
   * A prepared read of a GPU buffer of `bytes` bytes, tuned: resolves to a function that runs it
   * once. With `applyExp`, the sum is of exp(value) (the partials are then summed as they are).
   */
  prepareRead(source: GPUBuffer, bytes: number, applyExp = false): Promise<() => Promise<number>> {
    return this.#fastest(this.#readCandidates(source, bytes, applyExp));
  }

  /** The read passes prepareRead chooses from, one per way of sharing the values among invocations. */
  readCandidates(source: GPUBuffer, bytes: number, applyExp = false): (() => Promise<number>)[] {
    return this.#readCandidates(source, bytes, applyExp).map((c) => c.run);
  }

  #readCandidates(source: GPUBuffer, bytes: number, applyExp: boolean): Candidate[] {
    return distinctTargets(bytes).map((target) => this.#candidate(() => this.#readPass(source, bytes, applyExp, target)));
  }

  /** The read pass with about `target` invocations per binding piece. */
  #readPass(source: GPUBuffer, bytes: number, applyExp: boolean, target: number): () => Promise<number> {
    const limits = this.#device.limits;
    const pieces = bindingPieces(bytes, limits.maxStorageBufferBindingSize, limits.minStorageBufferOffsetAlignment);
    // Each piece writes its partial sums; one invocation then sums all partials of all pieces.
    const passes: Pass[] = [];
    // Each piece's slot of partials starts at an offset the device accepts for a binding.
    const slotAlign = limits.minStorageBufferOffsetAlignment / 16;
    const partialCounts = pieces.map((piece) => {
      const count = Math.ceil(piece.size / 16 / chunkFor(piece.size, target));
      return Math.ceil(count / slotAlign) * slotAlign;
    });
    const totalPartials = partialCounts.reduce((a, b) => a + b, 0);
    const partials = this.#buffer(totalPartials * 16, STORAGE | COPY_SRC);
    let at = 0;
    pieces.forEach((piece, i) => {
      passes.push(this.#pass(applyExp ? this.#expRead : this.#read, { buffer: source, ...piece }, partials, at * 16,
        chunkFor(piece.size, target)));
      at += partialCounts[i]!;
    });
    const total = this.#buffer(16, STORAGE | COPY_SRC);
    passes.push(this.#pass(this.#read, { buffer: partials, offset: 0, size: totalPartials * 16 }, total, 0, totalPartials));
    return () => this.#run(passes, total);
  }

  /** A prepared copy of a GPU buffer into another of the same size (of exp(value), with `applyExp`), tuned. */
  prepareCopy(source: GPUBuffer, destination: GPUBuffer, bytes: number, applyExp = false): Promise<() => Promise<number>> {
    return this.#fastest(this.#copyCandidates(source, destination, bytes, applyExp));
  }

  /** The copy passes prepareCopy chooses from. */
  copyCandidates(source: GPUBuffer, destination: GPUBuffer, bytes: number, applyExp = false): (() => Promise<number>)[] {
    return this.#copyCandidates(source, destination, bytes, applyExp).map((c) => c.run);
  }

  #copyCandidates(source: GPUBuffer, destination: GPUBuffer, bytes: number, applyExp: boolean): Candidate[] {
    const limits = this.#device.limits;
    const pieces = bindingPieces(bytes, limits.maxStorageBufferBindingSize, limits.minStorageBufferOffsetAlignment);
    const pipeline = applyExp ? this.#expCopy : this.#copy;
    return distinctTargets(bytes).map((target) => this.#candidate(() => {
      const passes = pieces.map((piece) => this.#pass(pipeline, { buffer: source, ...piece }, destination, piece.offset,
        chunkFor(piece.size, target)));
      return () => this.#run(passes, destination);
    }));
  }

  /** A pass made by `make`, with the buffers made meanwhile. */
  #candidate(make: () => () => Promise<number>): Candidate {
    const from = this.#owned.length;
    const run = make();
    return { run, buffers: this.#owned.slice(from) };
  }

  /**
   * A read of host data streamed through one GPU buffer of `pieceBytes` (for data over maxBufferSize):
   * each piece uploaded and read in turn, the sum of all pieces returned. The last, shorter piece
   * is read through a binding of its own size, so nothing left from the piece before counts.
   */
  async prepareStreamedRead(data: Float32Array, pieceBytes: number): Promise<() => Promise<number>> {
    const piece = this.#buffer(pieceBytes, STORAGE | COPY_DST);
    const full = await this.prepareRead(piece, pieceBytes);
    const lastBytes = data.byteLength % pieceBytes;
    const lastVec4s = Math.ceil(lastBytes / 16);
    const last = lastBytes === 0 ? full : await this.prepareRead(piece, lastVec4s * 16);
    // Zeros after the last value, up to the whole vec4 the read takes.
    const padding = new Float32Array(lastVec4s * 4 - lastBytes / 4);
    return async () => {
      let sum = 0;
      for (let offset = 0; offset < data.byteLength; offset += pieceBytes) {
        const size = Math.min(pieceBytes, data.byteLength - offset);
        this.#device.queue.writeBuffer(piece, 0, data.buffer, data.byteOffset + offset, size);
        if (size < pieceBytes && padding.length > 0) this.#device.queue.writeBuffer(piece, size, padding);
        sum += await (size === pieceBytes ? full : last)();
      }
      return sum;
    };
  }

  /**
   * Of passes that compute the same thing, the one whose fastest of TUNING_RUNS timed runs is the
   * fastest; the others' buffers are freed.
   */
  async #fastest(candidates: readonly Candidate[]): Promise<() => Promise<number>> {
    let best = candidates[0]!;
    let bestMs = Infinity;
    for (const candidate of candidates) {
      await candidate.run();
      for (let r = 0; r < TUNING_RUNS; r++) {
        const start = performance.now();
        await candidate.run();
        const ms = performance.now() - start;
        if (ms < bestMs) {
          bestMs = ms;
          best = candidate;
        }
      }
    }
    const unused = new Set(candidates.filter((c) => c !== best).flatMap((c) => c.buffers));
    unused.forEach((buffer) => buffer.destroy());
    this.#owned = this.#owned.filter((buffer) => !unused.has(buffer));
    return best.run;
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
