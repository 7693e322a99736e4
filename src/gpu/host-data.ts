/** Host data of a call: which buffers a prepared call binds, and copying host arrays into them. */
import type { CrossEntropyInputs } from './encode-cross-entropy.js';
import type { WorkPlan } from '../plan.js';
import { isGpuBuffer } from '../tensor-data.js';
import type { CrossEntropyOptions, LogitsInput, TargetInput } from '../types.js';

/** Small stable ids for GPU buffers, so a frame key can say which buffers a call binds. */
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
export function identity(data: unknown): string {
  if (!isGpuBuffer(data)) return data === undefined ? '-' : 'host';
  let id = bufferIds.get(data);
  if (id === undefined) bufferIds.set(data, (id = nextBufferId++));
  return `gpu${id}`;
}

/** Copies a call's host arrays into the buffers its frame made for them. */
export function writeHostData(device: GPUDevice, inputs: CrossEntropyInputs, plan: WorkPlan, logits: LogitsInput,
  target: TargetInput, options: CrossEntropyOptions): void {
  const write = (buffer: GPUBuffer | undefined, data: Float32Array | Int32Array | GPUBuffer | undefined) => {
    if (buffer === undefined || data === undefined || isGpuBuffer(data) || data.byteLength === 0) return;
    device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  };
  if (!plan.streamed) write(inputs.logits, logits.data);
  write(inputs.target, target.data);
  write(inputs.weight, options.weight);
  write(inputs.gradOutput, options.gradOutput);
}

