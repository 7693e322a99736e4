/**
 * Buffers of one call: every buffer a call creates is tracked here and destroyed when the call ends,
 * so nothing leaks whether the call succeeds or throws.
 */
import { BufferUsage, ELEMENT_BYTES, MapMode } from './constants.js';
import { inErrorScopes, type CallerBuffers } from './error-scopes.js';
import type { GpuMemoryLedger } from './memory-ledger.js';

/** `bytes` bytes of `buffer` from `offset` (default 0), to read back. */
export interface ReadRange {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
  readonly bytes: number;
}

/** Copies encoded into a call's staging buffer (CallBuffers.stage), to map once submitted. */
export interface StagedRead {
  readonly staging: GPUBuffer;
  readonly ranges: readonly ReadRange[];
  readonly total: number;
}

/**
 * The bit pattern written over outputs when poisoning is on: a NaN as one f32, and as each half
 * read as a float16 or bfloat16 (a 16-bit gradient's words hold two values).
 */
const POISON_BITS = 0xffffffff;

export class CallBuffers {
  readonly #device: GPUDevice;
  readonly #ledger: GpuMemoryLedger;
  readonly #poison: boolean;
  readonly #owned: GPUBuffer[] = [];
  readonly #outputs: GPUBuffer[] = [];
  #placeholder: GPUBuffer | undefined;
  #staging: GPUBuffer | undefined;

  /** Every buffer is created and destroyed through `ledger`, which counts what the instance holds. */
  constructor(device: GPUDevice, ledger: GpuMemoryLedger, poison: boolean) {
    this.#device = device;
    this.#ledger = ledger;
    this.#poison = poison;
  }

  /** A new buffer, owned by this call. `bytes` is rounded up to whole 4-byte elements, at least one. */
  create(label: string, bytes: number, usage: number): GPUBuffer {
    const size = Math.max(ELEMENT_BYTES, Math.ceil(bytes / ELEMENT_BYTES) * ELEMENT_BYTES);
    const buffer = this.#ledger.create(this.#device, { label: `cross-entropy:${label}`, size, usage });
    this.#owned.push(buffer);
    return buffer;
  }

  /** A small storage buffer to bind where a kernel's optional input is absent (never read). */
  placeholder(): GPUBuffer {
    // 16 bytes: one element of the widest array a kernel declares (vec4<f32>).
    this.#placeholder ??= this.create('absent', 4 * ELEMENT_BYTES, BufferUsage.STORAGE);
    return this.#placeholder;
  }

  /** A storage buffer of `bytes` bytes that host data is written into. */
  storage(label: string, bytes: number, extraUsage = 0): GPUBuffer {
    return this.create(label, bytes, BufferUsage.STORAGE | BufferUsage.COPY_DST | extraUsage);
  }

  /** A storage buffer holding a copy of host data. */
  upload(label: string, data: Float32Array | Int32Array, extraUsage = 0): GPUBuffer {
    const buffer = this.create(label, data.byteLength, BufferUsage.STORAGE | BufferUsage.COPY_DST | extraUsage);
    if (data.byteLength > 0) this.#device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** A storage buffer the kernels write (poisoned before each run when poisoning is on). */
  output(label: string, bytes: number, extraUsage = 0): GPUBuffer {
    const buffer = this.create(label, bytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST | extraUsage);
    this.#outputs.push(buffer);
    this.poisonOutputs([buffer]);
    return buffer;
  }

  /**
   * With poisoning on, fills the outputs with NaN, so an element a kernel forgets to write cannot
   * pass for a result. Called before every run of a reused call.
   */
  poisonOutputs(buffers: readonly GPUBuffer[] = this.#outputs): void {
    if (!this.#poison) return;
    for (const buffer of buffers) {
      this.#device.queue.writeBuffer(buffer, 0, new Uint32Array(buffer.size / ELEMENT_BYTES).fill(POISON_BITS));
    }
  }

  /**
   * Copies byte ranges of GPU buffers to the host through this call's staging buffer (made once,
   * grown when a read needs more), submitting `encoder` with the copies appended. One read at a time.
   * A WebGPU error names `operation`, and the caller's argument when it is one of `callerBuffers`.
   */
  async read(encoder: GPUCommandEncoder, ranges: readonly ReadRange[], operation = 'read',
    callerBuffers: CallerBuffers = {}): Promise<ArrayBuffer[]> {
    // A copy from a buffer destroyed meanwhile, or a staging buffer that cannot be allocated, must
    // not read as a result: the scopes turn either into a WebGpuError naming the object.
    const { value: staged, reported } = inErrorScopes(this.#device, operation, () => {
      const staged = this.stage(encoder, ranges);
      this.#device.queue.submit([encoder.finish()]);
      return staged;
    }, callerBuffers);
    const [scoped, mapping] = await Promise.allSettled([reported, this.#map(staged)]);
    if (scoped.status === 'rejected') {
      if (mapping.status === 'fulfilled') staged.staging.unmap();
      throw scoped.reason;
    }
    if (mapping.status === 'rejected') throw mapping.reason;
    return this.#take(staged);
  }

  /**
   * Appends to `encoder` the copies of `ranges` into the staging buffer, for `readStaged` once the
   * encoder's work is submitted and its error scopes have resolved.
   */
  stage(encoder: GPUCommandEncoder, ranges: readonly ReadRange[]): StagedRead {
    const total = Math.max(ELEMENT_BYTES, ranges.reduce((sum, r) => sum + r.bytes, 0));
    if (this.#staging === undefined || this.#staging.size < total) {
      if (this.#staging) this.#ledger.destroy(this.#staging);
      this.#staging = this.#ledger.create(this.#device, {
        label: 'cross-entropy:readback', size: total, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
      });
    }
    let offset = 0;
    for (const { buffer, offset: from = 0, bytes } of ranges) {
      if (bytes > 0) encoder.copyBufferToBuffer(buffer, from, this.#staging, offset, bytes);
      offset += bytes;
    }
    return { staging: this.#staging, ranges, total };
  }

  /** The ranges `stage` copied, read back (their submit's error scopes already resolved). */
  async readStaged(staged: StagedRead): Promise<ArrayBuffer[]> {
    await this.#map(staged);
    return this.#take(staged);
  }

  #map(staged: StagedRead): Promise<void> {
    return staged.staging.mapAsync(MapMode.READ, 0, staged.total);
  }

  /** Copies of the mapped ranges; unmaps. */
  #take({ staging, ranges, total }: StagedRead): ArrayBuffer[] {
    try {
      const mapped = staging.getMappedRange(0, total);
      let offset = 0;
      return ranges.map(({ bytes }) => {
        const copy = mapped.slice(offset, offset + bytes);
        offset += bytes;
        return copy;
      });
    } finally {
      staging.unmap();
    }
  }

  /** Destroys every buffer this call created. */
  destroy(): void {
    for (const buffer of this.#owned) this.#ledger.destroy(buffer);
    this.#owned.length = 0;
    this.#outputs.length = 0;
    this.#placeholder = undefined;
    if (this.#staging) this.#ledger.destroy(this.#staging);
    this.#staging = undefined;
  }
}
