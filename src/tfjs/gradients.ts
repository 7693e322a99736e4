/**
 * The chain rule's last step for the adapter's gradients: a gradient the library computed for an
 * upstream gradient of 1, times TF.js's `dy`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { onGpu, type WebGpuBackend } from './tensors.js';

/** Whether TF.js is recording a gradient tape (inside tf.grad, tf.variableGrads, optimizer.minimize). */
export function recording(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/**
 * `grad` times `dy`, broadcast as TF.js broadcasts. A `dy` of ones that TF.js holds on the CPU (the
 * one tf.grad and optimizer.minimize start from) is known without a GPU read: the gradient is then
 * returned as it is, as a new tensor sharing its data.
 */
export function timesUpstream(backend: WebGpuBackend, grad: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (!onGpu(backend, dy) && (dy.dataSync() as Float32Array).every((value) => value === 1)) return tf.clone(grad);
  return tf.mul(grad, dy);
}

/** The tensors customGrad saved, checked: a gradient asked for without them is a bug to report plainly. */
export function savedTensors(saved: readonly tf.Tensor[], count: number, operation: string): tf.Tensor[] {
  if (saved.length !== count) {
    throw new Error(`${operation}: TF.js asked for a gradient of a call made while no gradient tape was recording `
      + `(${saved.length} saved tensors, ${count} needed)`);
  }
  return [...saved];
}
