/** Host data of a call: which buffers a prepared call binds, and copying host arrays into them. */
import type { CrossEntropyInputs } from './encode-cross-entropy.js';
import type { WorkPlan } from '../plan.js';
import { isGpuBuffer } from '../tensor-data.js';
import { uploadedLogits } from '../half-precision.js';
import type { CrossEntropyOptions, LogitsData, LogitsInput, TargetInput, Dtype } from '../types.js';

/** Small stable ids for GPU buffers, so a frame key can say which buffers a call binds. */
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
export function identity(data: unknown): string {
  if (!isGpuBuffer(data)) return data === undefined ? '-' : 'host';
  let id = bufferIds.get(data);
  if (id === undefined) bufferIds.set(data, (id = nextBufferId++));
  return `gpu${id}`;
}

/**
 * Writes a host array at byte 0 of `buffer`. 16-bit data of odd length ends in half a word: its
 * last value goes in a word of its own, zero above it (writeBuffer copies whole words).
 */
export function writeArray(device: GPUDevice, buffer: GPUBuffer, data: Float32Array | Int32Array | Uint16Array): void {
  const whole = data.byteLength - (data.byteLength % 4);
  if (whole > 0) device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, whole);
  if (whole < data.byteLength) device.queue.writeBuffer(buffer, whole, new Uint16Array([(data as Uint16Array).at(-1)!, 0]));
}

/** Copies a call's host arrays into the buffers its frame made for them. */
export function writeHostData(device: GPUDevice, inputs: CrossEntropyInputs, plan: WorkPlan, logits: LogitsInput<Dtype>,
  target: TargetInput, options: CrossEntropyOptions): void {
  const write = (buffer: GPUBuffer | undefined, data: LogitsData | Int32Array | undefined) => {
    if (buffer === undefined || data === undefined || isGpuBuffer(data) || data.byteLength === 0) return;
    writeArray(device, buffer, data instanceof Int32Array ? data : uploadedLogits(data));
  };
  if (!plan.streamed) write(inputs.logits, logits.data);
  write(inputs.target, target.data);
  write(inputs.weight, options.weight);
  write(inputs.gradOutput, options.gradOutput);
}

