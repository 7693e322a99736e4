/**
 * Reads of a call's status block (the GPU's count of out-of-range class indices) for calls that do
 * not wait for their result: the copy goes in the call's own submission, the map is requested
 * after it, and the staging buffer returns to a small pool once read. A loop that never yields to
 * the event loop has one staging buffer per call in flight; once their maps resolve, all but KEPT
 * are destroyed, so what is held comes back to the same few buffers after every such stretch.
 */
import { BufferUsage, MapMode } from './constants.js';
import type { GpuMemoryLedger } from './memory-ledger.js';
import { STATUS } from './shader-structs.js';

/** Idle staging buffers kept for the next calls. */
const KEPT = 4;

export class StatusReads {
  readonly #device: GPUDevice;
  readonly #ledger: GpuMemoryLedger;
  readonly #idle: GPUBuffer[] = [];
  #destroyed = false;

  constructor(device: GPUDevice, ledger: GpuMemoryLedger) {
    this.#device = device;
    this.#ledger = ledger;
  }

  /**
   * Appends to `encoder` a copy of `status` into a staging buffer; the returned function, called
   * once `encoder` is submitted, maps it and resolves to the status's bytes.
   */
  stage(encoder: GPUCommandEncoder, status: GPUBuffer): () => Promise<ArrayBuffer> {
    const staging = this.#idle.pop() ?? this.#ledger.create(this.#device, {
      label: 'cross-entropy:status-read', size: STATUS.byteSize, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
    encoder.copyBufferToBuffer(status, 0, staging, 0, STATUS.byteSize);
    return async () => {
      try {
        await staging.mapAsync(MapMode.READ);
        const bytes = staging.getMappedRange().slice(0);
        staging.unmap();
        return bytes;
      } finally {
        this.#return(staging);
      }
    };
  }

  /** Destroys the idle buffers; those in flight are destroyed when their reads end. */
  destroy(): void {
    this.#destroyed = true;
    this.#idle.splice(0).forEach((buffer) => this.#ledger.destroy(buffer));
  }

  #return(staging: GPUBuffer): void {
    if (staging.mapState !== 'unmapped' || this.#destroyed || this.#idle.length >= KEPT) this.#ledger.destroy(staging);
    else this.#idle.push(staging);
  }
}
