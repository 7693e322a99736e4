/**
 * What GPU memory a CrossEntropy holds: every buffer the library creates is recorded here when made
 * and struck off when destroyed, so a test (or a caller watching a long training loop) can see that
 * repeated calls leave the count flat and that `destroy()` brings it to zero.
 */

/** Buffers held, and their total size in bytes. */
export interface GpuMemory {
  readonly buffers: number;
  readonly bytes: number;
}

export class GpuMemoryLedger {
  readonly #held = new Map<GPUBuffer, number>();
  #bytes = 0;
  #peak: GpuMemory = { buffers: 0, bytes: 0 };

  /** Creates a buffer and records it. */
  create(device: GPUDevice, descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = device.createBuffer(descriptor);
    this.#held.set(buffer, descriptor.size);
    this.#bytes += descriptor.size;
    if (this.#bytes > this.#peak.bytes) this.#peak = this.held;
    return buffer;
  }

  /** Destroys a buffer and strikes it off (a buffer destroyed twice is counted once). */
  destroy(buffer: GPUBuffer): void {
    buffer.destroy();
    const size = this.#held.get(buffer);
    if (size === undefined) return;
    this.#held.delete(buffer);
    this.#bytes -= size;
  }

  /**
   * The most bytes held at once (and the buffers then) since the ledger was made or the last
   * `takePeak()`; the next period starts from what is held now.
   */
  takePeak(): GpuMemory {
    const peak = this.#peak;
    this.#peak = this.held;
    return peak;
  }

  /** What is held now. */
  get held(): GpuMemory {
    return { buffers: this.#held.size, bytes: this.#bytes };
  }
}
