/**
 * The roofline kernels: the fastest passes that read every logit once (the floor for a forward
 * pass) or read and write every logit once (the floor for forward + gradient), followed by the same
 * 4-byte readback the loss needs; their exp floors, the same passes taking exp of every value (the
 * least arithmetic of any softmax); and their softmax floors, an online log-sum-exp of every value
 * (the least a one-pass softmax does) and, for the copy, exp(value - log-sum-exp) written after it.
 * The rooflines also read 16-bit values (float16, bfloat16), packed two per 32-bit word as the
 * library takes them: 2 bytes a value.
 * Pipelines, bind groups and buffers are made once per source, and each pass is tuned to the
 * adapter: of a few ways to share the values among invocations, the one that runs fastest there is
 * kept (a CPU adapter wants few long runs, a GPU many).
 */
import readSource from './roofline-read.wgsl?raw';
import copySource from './roofline-copy.wgsl?raw';
import read16Source from './roofline-read-16bit.wgsl?raw';
import copy16Source from './roofline-copy-16bit.wgsl?raw';
import softmaxSource from './floor-softmax.wgsl?raw';
import { BufferUsage, MapMode } from '../src/gpu/constants.js';
import { foldWorkgroups } from '../src/plan.js';

/**
 * What a pass takes of every value: the value itself (the roofline: a read sums the values, a copy
 * copies them), its exp (the exp floor), or its softmax over all values as one row (the softmax
 * floors: a read returns their log-sum-exp, a copy writes exp(value - log-sum-exp)); `'exact'` is
 * the softmax floor with ours' exact bookkeeping (floor-softmax.wgsl).
 */
export type PassKind = 'roofline' | 'exp' | 'softmax' | 'exact';

/**
 * How the values a pass reads are stored: f32, or 16-bit, two to a 32-bit word. Only the rooflines
 * (kind `'roofline'`) read 16-bit values.
 */
export type ValueDtype = 'float32' | 'float16' | 'bfloat16';
type HalfDtype = Exclude<ValueDtype, 'float32'>;

/**
 * What a pass's 16-byte result reads back as: the sum of its four f32 values, or, for a 16-bit
 * copy, the sum of its eight 16-bit patterns as integers (an exact checksum of the bits copied).
 */
type Readback = 'f32' | 'u16';

const WORKGROUP = 64;
/**
 * Invocations a pass may aim for, tried on the adapter and the fastest kept: a CPU adapter
 * (SwiftShader on two cores) reads fastest in a few long runs, while a GPU with thousands of lanes
 * needs the most.
 */
const INVOCATION_TARGETS = [2048, 8192, 32768, 131072];
const MIN_CHUNK = 16;
/** Timed runs of each candidate pass when tuning (after one untimed run): the fastest run counts. */
const TUNING_RUNS = 2;
const { STORAGE, COPY_SRC, COPY_DST, UNIFORM, MAP_READ } = BufferUsage;

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

/** The passes of a read, and the 16-byte buffer whose four values sum to its result. */
interface ReadPasses {
  readonly passes: Pass[];
  readonly total: GPUBuffer;
}

/** A read's pipelines: the pass over the values, writing one partial per invocation, and the pass over the partials. */
interface ReadPipelines {
  readonly partials: GPUComputePipeline;
  readonly merge: GPUComputePipeline;
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
  readonly #read: Record<PassKind, ReadPipelines>;
  readonly #copy: Record<PassKind, GPUComputePipeline>;
  readonly #read16: Record<HalfDtype, ReadPipelines>;
  /** The 16-bit copy: words copied as they are, whatever the dtype. */
  readonly #copy16: GPUComputePipeline;
  /** The pipelines that write one partial per invocation (the others one value per value). */
  readonly #reducing: Set<GPUComputePipeline>;
  readonly #staging: GPUBuffer;
  readonly #tiny: GPUBuffer;
  #owned: GPUBuffer[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
    const make = (code: string, label: string, entryPoint = 'main', constants: Record<string, number> = {}) =>
      device.createComputePipeline({
        label, layout: 'auto',
        compute: { module: device.createShaderModule({ label, code }), entryPoint,
                   constants: { workgroup_size: WORKGROUP, ...constants } },
      });
    const sum = make(readSource, 'roofline-read');
    const expSum = make(readSource, 'floor-exp-read', 'main', { APPLY_EXP: 1 });
    const softmax = (label: string, exact: boolean): ReadPipelines => ({
      partials: make(softmaxSource, `${label}-read`, 'partial_states', { EXACT: exact ? 1 : 0 }),
      merge: make(softmaxSource, `${label}-merge`, 'merge_states', { EXACT: exact ? 1 : 0 }),
    });
    this.#read = {
      roofline: { partials: sum, merge: sum },
      exp: { partials: expSum, merge: sum },
      softmax: softmax('floor-softmax', false),
      exact: softmax('floor-exact', true),
    };
    const writeSoftmax = make(softmaxSource, 'floor-softmax-copy', 'write_softmax');
    this.#copy = {
      roofline: make(copySource, 'roofline-copy'),
      exp: make(copySource, 'floor-exp-copy', 'main', { APPLY_EXP: 1 }),
      softmax: writeSoftmax,
      exact: writeSoftmax,
    };
    // A 16-bit read's partials are f32: the f32 read sums them.
    this.#read16 = {
      float16: { partials: make(read16Source, 'roofline-read-float16', 'main', { BFLOAT16: 0 }), merge: sum },
      bfloat16: { partials: make(read16Source, 'roofline-read-bfloat16', 'main', { BFLOAT16: 1 }), merge: sum },
    };
    this.#copy16 = make(copy16Source, 'roofline-copy-16bit');
    this.#reducing = new Set([sum, expSum, this.#read16.float16.partials, this.#read16.bfloat16.partials,
      ...[this.#read.softmax, this.#read.exact].flatMap((p) => [p.partials, p.merge])]);
    this.#staging = this.#buffer(16, MAP_READ | COPY_DST);
    this.#tiny = this.#buffer(16, STORAGE | COPY_SRC);
  }

  #buffer(size: number, usage: number): GPUBuffer {
    const buffer = this.#device.createBuffer({ size, usage });
    this.#owned.push(buffer);
    return buffer;
  }

  /**
   * A pass over `source` (vec4s) with `chunk` vec4s per invocation; `statistics`, a merged read's
   * result, for the softmax floor's copy.
   */
  #pass(pipeline: GPUComputePipeline, source: GPUBufferBinding & { size: number }, destination: GPUBuffer,
    destinationOffset: number, chunk: number, statistics?: GPUBuffer): Pass {
    const count = source.size / 16;
    const invocations = Math.ceil(count / chunk);
    const params = this.#buffer(16, UNIFORM | COPY_DST);
    this.#device.queue.writeBuffer(params, 0, new Uint32Array([count, chunk, 0, 0]));
    const destinationSize = this.#reducing.has(pipeline) ? invocations * 16 : source.size;
    const bindGroup = this.#device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: params } },
        { binding: 1, resource: source },
        { binding: 2, resource: { buffer: destination, offset: destinationOffset, size: destinationSize } },
        ...(statistics ? [{ binding: 3, resource: { buffer: statistics } }] : []),
      ],
    });
    return { pipeline, bindGroup, groups: foldWorkgroups(invocations, WORKGROUP, this.#device.limits.maxComputeWorkgroupsPerDimension) };
  }

  /**
   * A prepared read of a GPU buffer of `bytes` bytes, tuned: resolves to a function that runs it
   * once and returns the sum of the values (of their exps for `'exp'`; their log-sum-exp for
   * `'softmax'` and `'exact'`). `dtype`: how the values are stored (16-bit: the roofline only).
   */
  prepareRead(source: GPUBuffer, bytes: number, kind: PassKind = 'roofline', dtype: ValueDtype = 'float32'): Promise<() => Promise<number>> {
    return this.#fastest(this.#readCandidates(source, bytes, kind, dtype));
  }

  /** The read passes prepareRead chooses from, one per way of sharing the values among invocations. */
  readCandidates(source: GPUBuffer, bytes: number, kind: PassKind = 'roofline', dtype: ValueDtype = 'float32'): (() => Promise<number>)[] {
    return this.#readCandidates(source, bytes, kind, dtype).map((c) => c.run);
  }

  #readCandidates(source: GPUBuffer, bytes: number, kind: PassKind, dtype: ValueDtype): Candidate[] {
    const pipelines = this.#readPipelines(kind, dtype);
    return distinctTargets(bytes).map((target) => this.#candidate(() => {
      const { passes, total } = this.#readPasses(source, bytes, pipelines, target);
      return () => this.#run(passes, total);
    }));
  }

  #readPipelines(kind: PassKind, dtype: ValueDtype): ReadPipelines {
    if (dtype === 'float32') return this.#read[kind];
    if (kind !== 'roofline') throw new RangeError(`the ${kind} floor reads f32 values only, not ${dtype}`);
    return this.#read16[dtype];
  }

  /** The passes of a read with about `target` invocations per binding piece. */
  #readPasses(source: GPUBuffer, bytes: number, pipelines: ReadPipelines, target: number): ReadPasses {
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
      passes.push(this.#pass(pipelines.partials, { buffer: source, ...piece }, partials, at * 16,
        chunkFor(piece.size, target)));
      at += partialCounts[i]!;
    });
    const total = this.#buffer(16, STORAGE | COPY_SRC);
    passes.push(this.#pass(pipelines.merge, { buffer: partials, offset: 0, size: totalPartials * 16 }, total, 0,
      totalPartials));
    return { passes, total };
  }

  /**
   * A prepared copy of a GPU buffer into another of the same size, tuned: of the values (of their
   * exps for `'exp'`; for `'softmax'` and `'exact'`, of exp(value - log-sum-exp), after a read of
   * the log-sum-exp). It returns the sum of the first four values written; a copy of 16-bit values
   * (`dtype`, the roofline only) the sum of the first eight values' bit patterns, as integers.
   */
  prepareCopy(source: GPUBuffer, destination: GPUBuffer, bytes: number, kind: PassKind = 'roofline',
    dtype: ValueDtype = 'float32'): Promise<() => Promise<number>> {
    return this.#fastest(this.#copyCandidates(source, destination, bytes, kind, dtype));
  }

  /** The copy passes prepareCopy chooses from. */
  copyCandidates(source: GPUBuffer, destination: GPUBuffer, bytes: number, kind: PassKind = 'roofline',
    dtype: ValueDtype = 'float32'): (() => Promise<number>)[] {
    return this.#copyCandidates(source, destination, bytes, kind, dtype).map((c) => c.run);
  }

  #copyCandidates(source: GPUBuffer, destination: GPUBuffer, bytes: number, kind: PassKind, dtype: ValueDtype): Candidate[] {
    if (dtype !== 'float32' && kind !== 'roofline') throw new RangeError(`the ${kind} floor copies f32 values only, not ${dtype}`);
    const pipeline = dtype === 'float32' ? this.#copy[kind] : this.#copy16;
    const readback: Readback = dtype === 'float32' ? 'f32' : 'u16';
    const limits = this.#device.limits;
    const pieces = bindingPieces(bytes, limits.maxStorageBufferBindingSize, limits.minStorageBufferOffsetAlignment);
    return distinctTargets(bytes).map((target) => this.#candidate(() => {
      // The softmax floor's statistics first: the same read as its read floor, in the same submit.
      const statistics = kind === 'softmax' || kind === 'exact' ? this.#readPasses(source, bytes, this.#read[kind], target) : null;
      const passes = pieces.map((piece) => this.#pass(pipeline, { buffer: source, ...piece }, destination,
        piece.offset, chunkFor(piece.size, target), statistics?.total));
      return () => this.#run([...(statistics?.passes ?? []), ...passes], destination, readback);
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

  /**
   * Runs the passes and reads back the sum of the result's first 16 bytes, read as `readback`
   * says. Where there are passes, the map is requested once an error scope around the submit has
   * resolved (as ours does): in Chromium a map requested while a short dispatch is pending is
   * answered only on the GPU process's next poll, which made short rooflines slower than ours and
   * flattered it (docs/performance.md, rooflines and floors). With no passes, mapping at once is
   * the faster.
   */
  async #run(passes: readonly Pass[], result: GPUBuffer, readback: Readback = 'f32'): Promise<number> {
    const encoder = this.#device.createCommandEncoder();
    const compute = encoder.beginComputePass();
    for (const pass of passes) {
      compute.setPipeline(pass.pipeline);
      compute.setBindGroup(0, pass.bindGroup);
      compute.dispatchWorkgroups(...pass.groups);
    }
    compute.end();
    encoder.copyBufferToBuffer(result, 0, this.#staging, 0, 16);
    const awaitScope = passes.length > 0;
    if (awaitScope) this.#device.pushErrorScope('validation');
    this.#device.queue.submit([encoder.finish()]);
    const error = awaitScope ? await this.#device.popErrorScope() : null;
    if (error) throw new Error(error.message);
    await this.#staging.mapAsync(MapMode.READ);
    const mapped = this.#staging.getMappedRange(0, 16);
    let value = 0;
    for (const x of readback === 'f32' ? new Float32Array(mapped) : new Uint16Array(mapped)) value += x;
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
