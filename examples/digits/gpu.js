// @ts-check
/**
 * The few WebGPU helpers the digits example needs. Flags by value, as the WebGPU specification
 * fixes them: Node's `webgpu` package defines no `GPUBufferUsage` global unless asked to.
 */

export const BufferUsage = Object.freeze({ MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080 });
export const MapMode = Object.freeze({ READ: 0x0001 });
export const COMPUTE_STAGE = 0x4;

/**
 * A staging buffer of `bytes` kept for repeated reads: each `read` copies a range of a buffer into
 * it, waits, and returns a copy of the bytes.
 *
 * @example
 * const staging = new Readback(device, 'digits:read-parameters', 4 * 7850);
 * const [bytes] = await staging.read([{ buffer: weightBuffer, bytes: 4 * 7840 }]);
 * const weight = new Float32Array(bytes);
 * staging.destroy();
 */
export class Readback {
  /** @type {GPUDevice} */ #device;
  /** @type {GPUBuffer} */ #staging;

  /**
   * @param {GPUDevice} device
   * @param {string} label
   * @param {number} bytes the most one read copies
   */
  constructor(device, label, bytes) {
    this.#device = device;
    this.#staging = device.createBuffer({ label, size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  }

  /**
   * The bytes of each source range, one after another in the staging buffer, read in one round trip.
   *
   * @param {readonly { buffer: GPUBuffer, bytes: number }[]} ranges each from byte 0 of its buffer
   * @returns {Promise<ArrayBuffer[]>}
   */
  async read(ranges) {
    const total = ranges.reduce((sum, range) => sum + range.bytes, 0);
    if (total > this.#staging.size) {
      throw new RangeError(`${this.#staging.label}: ${total} bytes asked, the staging buffer holds ${this.#staging.size}`);
    }
    const encoder = this.#device.createCommandEncoder({ label: `${this.#staging.label}:copy` });
    let at = 0;
    for (const { buffer, bytes } of ranges) {
      encoder.copyBufferToBuffer(buffer, 0, this.#staging, at, bytes);
      at += bytes;
    }
    this.#device.queue.submit([encoder.finish()]);
    await this.#staging.mapAsync(MapMode.READ, 0, total);
    try {
      const mapped = this.#staging.getMappedRange(0, total);
      at = 0;
      return ranges.map(({ bytes }) => mapped.slice(at, (at += bytes)));
    } finally {
      this.#staging.unmap();
    }
  }

  destroy() {
    this.#staging.destroy();
  }
}
