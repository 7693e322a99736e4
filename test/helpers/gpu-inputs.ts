/** A built case with its arrays moved into GPU buffers, to exercise the GPU-resident input path. */
import type { BuiltCase, HalfCase } from '../../problems/cases.js';

const STORAGE = 0x80;
const COPY_DST = 0x08;
const COPY_SRC = 0x04;

/** A storage buffer holding `data`; 16-bit data of odd length is padded to a whole word with 0. */
export function gpuBuffer(device: GPUDevice, data: Float32Array | Int32Array | Uint16Array): GPUBuffer {
  const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
  const buffer = device.createBuffer({ size, usage: STORAGE | COPY_DST | COPY_SRC, mappedAtCreation: true });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** The same case with logits, target, weight and gradOutput as GPUBuffers; `destroy` frees them. */
export function onGpu<C extends BuiltCase | HalfCase>(device: GPUDevice, c: C) {
  const owned: GPUBuffer[] = [];
  const move = (data: Float32Array | Int32Array | Uint16Array) => {
    const buffer = gpuBuffer(device, data);
    owned.push(buffer);
    return buffer;
  };
  const { weight, gradOutput, ...rest } = c.options;
  return {
    logits: { ...(c.logits as C['logits']), data: move(c.logits.data) },
    target: { data: move(c.target.data), shape: c.target.shape },
    options: { ...rest, ...(weight ? { weight: move(weight) } : {}), ...(gradOutput ? { gradOutput: move(gradOutput) } : {}) },
    destroy: () => owned.forEach((b) => b.destroy()),
  };
}
