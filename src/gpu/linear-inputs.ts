/**
 * The linear head's inputs on the GPU: which buffers a prepared call binds (the caller's, or
 * buffers for host data: a classifier over one buffer goes in one buffer per store of the plan),
 * copying host data into them, and the size checks made before any GPU work.
 */
import type { LinearPlan } from '../linear-plan.js';
import type { LinearProblem } from '../linear-problem.js';
import { dataBytes } from '../options.js';
import { uploadedLogits } from '../half-precision.js';
import { isGpuBuffer } from '../tensor-data.js';
import type { LinearInput, LinearOptions, LogitsData, TargetInput } from '../types.js';
import type { CallBuffers } from './buffers.js';
import type { LinearInputs } from './encode-linear.js';
import type { CallerBuffers } from './error-scopes.js';
import { writeArray } from './host-data.js';

/** Reads `memoryBudget`: absent (the default), or a positive number of bytes. */
export function readMemoryBudget(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0 && value < Infinity)) {
    throw new (typeof value === 'number' ? RangeError : TypeError)(
      `options.memoryBudget must be a positive number of bytes, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

/**
 * Checks, before any GPU work, what the plan cannot cut: host hidden states and the gradients in
 * one buffer each, and (for linearGpu, whose result is one GPUBuffer per gradient) d(classifier)
 * in one buffer.
 */
export function checkLinearBuffers(problem: LinearProblem, plan: LinearPlan, limits: GPUSupportedLimits,
  hidden: LinearInput, classifier: LinearInput, operation: 'linear' | 'linearGpu'): void {
  const { rows, depth, classes } = problem;
  const max = limits.maxBufferSize;
  const over = (what: string, bytes: number) => {
    if (bytes > max) throw new RangeError(`${what} (${bytes} bytes) exceeds this device's maxBufferSize (${max})`);
  };
  if (!isGpuBuffer(hidden.data)) over('hidden', dataBytes(rows * depth, problem.hiddenDtype));
  if (problem.grads.hidden) over('the gradient of hidden, accumulated in f32,', rows * depth * 4);
  if (operation === 'linearGpu' && problem.grads.classifier) {
    over('the gradient of the classifier (linearGpu returns it in one GPUBuffer; linear() reads it back in parts)',
      dataBytes(classes * depth, problem.classifierGradDtype));
  }
  if (isGpuBuffer(classifier.data) && plan.stores.length > 1 && problem.grads.classifier
      && problem.classifierGradDtype === 'float32') {
    // The caller's classifier fits one buffer, and so does its f32 gradient: one store each.
    over('the gradient of the classifier', classes * depth * 4);
  }
}

/** The caller's GPUBuffers of a linear call, by argument (for WebGpuError messages). */
export function linearCallerBuffers(hidden: LinearInput, classifier: LinearInput, target: TargetInput,
  options: LinearOptions): CallerBuffers {
  const named: Record<string, unknown> = {
    'hidden.data': hidden.data, 'classifier.data': classifier.data, 'target.data': target.data,
    'options.bias': options.bias, 'options.weight': options.weight, 'options.gradOutput': options.gradOutput,
  };
  return Object.fromEntries(Object.entries(named).filter(([, value]) => isGpuBuffer(value))) as CallerBuffers;
}

/** The caller's GPUBuffers, and buffers the size of the host arrays (filled by writeLinearHostData). */
export function linearInputBuffers(buffers: CallBuffers, problem: LinearProblem, plan: LinearPlan, hidden: LinearInput,
  classifier: LinearInput, target: TargetInput, options: LinearOptions): LinearInputs {
  const bind = (label: string, data: LogitsData | Int32Array) =>
    (isGpuBuffer(data) ? data : buffers.storage(label, Math.ceil(data.byteLength / 4) * 4));
  return {
    hidden: bind('hidden', hidden.data),
    classifier: isGpuBuffer(classifier.data) ? [classifier.data]
      : plan.stores.map((store, s) => buffers.storage(`classifier-${s}`,
        dataBytes(store.classes * problem.depth, problem.classifierDtype))),
    target: bind('target', target.data),
    bias: options.bias === undefined ? undefined : bind('bias', options.bias),
    weight: options.weight === undefined ? undefined : bind('weight', options.weight),
    gradOutput: options.gradOutput === undefined ? undefined : bind('grad-output', options.gradOutput),
  };
}

/** Copies a linear call's host arrays into its buffers: a classifier store by store. */
export function writeLinearHostData(device: GPUDevice, inputs: LinearInputs, plan: LinearPlan, hidden: LinearInput,
  classifier: LinearInput, target: TargetInput, options: LinearOptions): void {
  const write = (buffer: GPUBuffer | undefined, data: LogitsData | Int32Array | undefined) => {
    if (buffer === undefined || data === undefined || isGpuBuffer(data) || data.byteLength === 0) return;
    writeArray(device, buffer, data instanceof Int32Array ? data : uploadedLogits(data));
  };
  write(inputs.hidden, hidden.data);
  if (!isGpuBuffer(classifier.data)) {
    const values = uploadedLogits(classifier.data);
    const depth = classifier.shape[1]!;
    plan.stores.forEach((store, s) => {
      writeArray(device, inputs.classifier[s]!, values.subarray(store.first * depth, (store.first + store.classes) * depth));
    });
  }
  write(inputs.target, target.data);
  write(inputs.bias, options.bias);
  write(inputs.weight, options.weight);
  write(inputs.gradOutput, options.gradOutput);
}

/** A frame's inputs with this call's GPUBuffers in place of the ones it was made with (as withCallerBuffers). */
export function withLinearCallerBuffers(frameInputs: LinearInputs, hidden: LinearInput, classifier: LinearInput,
  target: TargetInput, options: LinearOptions): LinearInputs {
  const pick = (own: GPUBuffer | undefined, data: unknown) => (isGpuBuffer(data) ? data : own);
  return {
    hidden: pick(frameInputs.hidden, hidden.data)!,
    classifier: isGpuBuffer(classifier.data) ? [classifier.data] : frameInputs.classifier,
    target: pick(frameInputs.target, target.data)!,
    bias: pick(frameInputs.bias, options.bias),
    weight: pick(frameInputs.weight, options.weight),
    gradOutput: pick(frameInputs.gradOutput, options.gradOutput),
  };
}
