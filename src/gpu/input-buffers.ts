/**
 * The buffers a call's kernels read, and the caller's GPUBuffers among them by argument name (for
 * WebGpuError messages).
 */
import type { CallBuffers } from './buffers.js';
import { BufferUsage } from './constants.js';
import type { CallerBuffers } from './error-scopes.js';
import type { CrossEntropyInputs } from './encode-cross-entropy.js';
import type { Problem } from '../options.js';
import type { WorkPlan } from '../plan.js';
import { isGpuBuffer } from '../tensor-data.js';
import type { CrossEntropyOptions, LogitsData, LogitsInput, TargetInput, Dtype } from '../types.js';
import { dataBytes } from '../options.js';

/**
 * The caller's GPUBuffers as they are, and for host arrays buffers of their size (filled by
 * `writeHostData` before each run).
 */
export function inputBuffers(buffers: CallBuffers, problem: Problem, plan: WorkPlan, logits: LogitsInput<Dtype>,
  target: TargetInput, options: CrossEntropyOptions): CrossEntropyInputs {
  const bind = (label: string, data: LogitsData | Int32Array, extraUsage = 0) =>
    (isGpuBuffer(data) ? data : buffers.storage(label, Math.ceil(data.byteLength / 4) * 4, extraUsage));
  // Streamed logits go through one buffer the size of the largest piece.
  const pieceBytes = dataBytes(Math.max(...plan.pieces.map((p) => p.rows)) * plan.classes, problem.dtype);
  return {
    // An uploaded copy of the logits may receive the gradient, which read() copies out.
    logits: plan.streamed ? buffers.storage('logits-piece', pieceBytes)
      : bind('logits', logits.data, problem.grad ? BufferUsage.COPY_SRC : 0),
    target: bind('target', target.data),
    weight: options.weight === undefined ? undefined : bind('weight', options.weight),
    gradOutput: options.gradOutput === undefined ? undefined : bind('grad-output', options.gradOutput),
  };
}

/** The caller's GPUBuffers of a call, by argument. */
export function callerBuffers(logits: LogitsInput<Dtype>, target: TargetInput, options: object): CallerBuffers {
  const named: Record<string, unknown> = {
    'logits.data': logits.data, 'target.data': target.data, ...Object.fromEntries(Object.entries(options)
      .filter(([name]) => name === 'weight' || name === 'gradOutput' || name === 'posWeight')
      .map(([name, value]) => [`options.${name}`, value])),
  };
  return Object.fromEntries(Object.entries(named).filter(([, value]) => isGpuBuffer(value))) as CallerBuffers;
}

/**
 * A frame's inputs with this call's GPUBuffers in place of the ones it was made with (host data
 * keeps the frame's own buffers): what a frame keyed by the inputs' kinds binds for a new call.
 */
export function withCallerBuffers(frameInputs: CrossEntropyInputs, logits: LogitsInput<Dtype>, target: TargetInput,
  options: CrossEntropyOptions): CrossEntropyInputs {
  const pick = (own: GPUBuffer | undefined, data: unknown) => (isGpuBuffer(data) ? data : own);
  return {
    logits: pick(frameInputs.logits, logits.data)!,
    target: pick(frameInputs.target, target.data)!,
    weight: pick(frameInputs.weight, options.weight),
    gradOutput: pick(frameInputs.gradOutput, options.gradOutput),
  };
}

/** What a frame key says of an input: a GPUBuffer, host data, or absent. */
export function kind(data: unknown): 'gpu' | 'host' | '-' {
  return data === undefined ? '-' : isGpuBuffer(data) ? 'gpu' : 'host';
}
