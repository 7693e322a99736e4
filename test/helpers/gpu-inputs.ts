/** A built case with its arrays moved into GPU buffers, to exercise the GPU-resident input path. */
import type { BuiltCase } from '../../problems/cases.js';

const STORAGE = 0x80;
const COPY_DST = 0x08;
const COPY_SRC = 0x04;

export function gpuBuffer(device: GPUDevice, data: Float32Array | Int32Array): GPUBuffer {
  const buffer = device.createBuffer({ size: Math.max(4, data.byteLength), usage: STORAGE | COPY_DST | COPY_SRC });
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

/** The same case with logits, target, weight and gradOutput as GPUBuffers; `destroy` frees them. */
export function onGpu(device: GPUDevice, c: BuiltCase) {
  const owned: GPUBuffer[] = [];
  const move = (data: Float32Array | Int32Array) => {
    const buffer = gpuBuffer(device, data);
    owned.push(buffer);
    return buffer;
  };
  const { weight, gradOutput, ...rest } = c.options;
  return {
    logits: { data: move(c.logits.data), shape: c.logits.shape },
    target: { data: move(c.target.data), shape: c.target.shape },
    options: { ...rest, ...(weight ? { weight: move(weight) } : {}), ...(gradOutput ? { gradOutput: move(gradOutput) } : {}) },
    destroy: () => owned.forEach((b) => b.destroy()),
  };
}
