/**
 * TfjsCrossEntropy: this library's losses inside TF.js, on TF.js's own WebGPU device. Each loss is
 * synchronous and returns a tf.Tensor made with tf.customGrad, so TF.js's gradients reach it
 * (tf.grad, tf.variableGrads, optimizer.minimize, a layers model's compile({ loss })). Its inputs go
 * to the library's kernels as TF.js's GPUBuffers (dataToGPU) or, for data TF.js keeps on the CPU,
 * uploaded; its outputs come back as tensors TF.js owns. WebGPU's errors and the GPU's check of
 * class indices on the GPU arrive after a call returns: the next call throws them, `settled()`
 * rejects with them, and `onError` hears of them at once.
 */
import * as tf from '@tensorflow/tfjs-core';
// From the package's entry module: the build then keeps dist/index.js whole, and this entry's bundle
// imports what it shares with it from there (vite.config.ts).
import { CrossEntropy } from '../index.js';
import { syncCalls } from '../cross-entropy.js';
import type { GpuMemory } from '../gpu/memory-ledger.js';
import { formatShape, rowLayout, sameShape } from '../shape.js';
import { recording, savedTensors, timesUpstream } from './gradients.js';
import {
  readAdapterOptions, type TfjsBinaryOptions, type TfjsCrossEntropyOptions, type TfjsLinearOptions,
} from './options.js';
import { LibraryCalls, type WeightOption } from './calls.js';
import { backendName, checkTensor, currentWebGpuBackend, onGpu, type WebGpuBackend } from './tensors.js';

/** Options of `TfjsCrossEntropy.create`. */
export interface TfjsCreateOptions {
  /**
   * Called with each error reported after a call returned (a WebGPU error in its work, class
   * indices out of range found on the GPU). The next call throws it too, and `settled()` rejects
   * with it.
   */
  readonly onError?: (error: Error) => void;
  /** As CrossEntropy.create's: fill every buffer the kernels write with NaN first (tests). */
  readonly poisonOutputs?: boolean;
  /** As CrossEntropy.create's. */
  readonly subgroups?: boolean;
}

/** A loss for a layers model's `compile({ loss })`: TF.js calls it with (yTrue, yPred). */
export type TfjsLossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

const CREATE = Symbol('TfjsCrossEntropy.create');

/**
 * Inside customGrad's forward: keeps for the backward pass the gradients computed with the loss,
 * or else `inputs` (what the backward pass computes them from). TF.js keeps them only while it
 * records a tape, and disposes of them after the backward pass.
 */
function keepForBackward(save: tf.GradSaveFunc, grads: tf.Tensor[] | undefined, inputs?: tf.Tensor[]): void {
  if (grads) save(grads);
  else if (inputs && recording()) save(inputs);
}

/**
 * PyTorch's cross-entropy, binary cross-entropy and linear-head losses as TF.js ops on TF.js's
 * WebGPU backend.
 *
 * @example
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-webgpu';
 * import { TfjsCrossEntropy } from 'webgpu-cross-entropy/tfjs';
 *
 * await tf.setBackend('webgpu');
 * const losses = await TfjsCrossEntropy.create();
 * const optimizer = tf.train.sgd(0.1);
 * optimizer.minimize(() => losses.crossEntropy(tf.matMul(x, weights), labels, { labelSmoothing: 0.1 }));
 */
export class TfjsCrossEntropy {
  readonly #ce: CrossEntropy;
  readonly #calls: LibraryCalls;
  readonly #backend: WebGpuBackend;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #pending = new Set<Promise<void>>();
  #failure: Error | undefined;
  #destroyed = false;

  private constructor(token: symbol, ce: CrossEntropy, backend: WebGpuBackend, onError: TfjsCreateOptions['onError']) {
    if (token !== CREATE) throw new TypeError('TfjsCrossEntropy: use await TfjsCrossEntropy.create(), not new');
    this.#ce = ce;
    this.#calls = new LibraryCalls(syncCalls(ce), backend, (operation, reported) => this.#follow(operation, reported));
    this.#backend = backend;
    this.#onError = onError;
  }

  /**
   * Makes the library's kernels on the device of TF.js's current backend, which must be WebGPU's
   * (`await tf.setBackend('webgpu')` first). The one asynchronous step: every loss after it is
   * synchronous.
   *
   * @example
   * await tf.setBackend('webgpu');
   * const losses = await TfjsCrossEntropy.create();
   */
  static async create(options: TfjsCreateOptions = {}): Promise<TfjsCrossEntropy> {
    readAdapterOptions(options, 'TfjsCrossEntropy.create');
    await tf.ready();
    const backend = currentWebGpuBackend('TfjsCrossEntropy.create');
    const ce = await CrossEntropy.create({ device: backend.device, poisonOutputs: options.poisonOutputs,
      ...(options.subgroups === undefined ? {} : { subgroups: options.subgroups }) });
    return new TfjsCrossEntropy(CREATE, ce, backend, options.onError);
  }

  /** The CrossEntropy on TF.js's device, for the library's own (asynchronous) methods. */
  get ce(): CrossEntropy {
    return this.#ce;
  }

  /** The GPU buffers the library holds for these losses (see CrossEntropy.gpuMemory): flat over a training loop. */
  gpuMemory(): GpuMemory {
    return this.#ce.gpuMemory();
  }

  /**
   * Cross-entropy of `logits` [C], [N, C] or [N, C, d1, …] (classes on axis 1, as PyTorch's)
   * against int32 class indices (the logits' shape without C) or float32 probabilities (the
   * logits' shape): `F.cross_entropy` with PyTorch's options. A scalar, or the target's shape for
   * `reduction: 'none'`. Its gradient with respect to the logits comes from this library's kernels.
   *
   * @example
   * const loss = losses.crossEntropy(logits, tf.tensor1d([0, 2], 'int32'), { labelSmoothing: 0.1 });
   */
  crossEntropy(logits: tf.Tensor, target: tf.Tensor, options?: TfjsCrossEntropyOptions): tf.Tensor {
    const operation = 'TfjsCrossEntropy.crossEntropy';
    const backend = this.#begin(operation);
    const { weight, ...scalars } = readAdapterOptions(options, operation);
    checkTensor(operation, 'logits', logits, backend, ['float32']);
    checkTensor(operation, 'target', target, backend, ['int32', 'float32'],
      ' (int32 class indices, or float32 probabilities of the logits\' shape)');
    if (weight instanceof tf.Tensor) checkTensor(operation, 'options.weight', weight, backend, ['float32']);
    if (target.dtype === 'float32' && logits.rank > 0 && !sameShape(target.shape, logits.shape)) {
      throw new TypeError(`${operation}: target is a float32 tensor ${formatShape(target.shape)}, not of the logits' `
        + `shape ${formatShape(logits.shape)}: class indices must be int32 (tf.cast(target, 'int32'))`);
    }
    const none = (scalars.reduction ?? 'mean') === 'none';
    // 'mean' and 'sum': the gradient comes with the loss and is scaled by dy; 'none': it is made in
    // the backward pass, with dy as the library's upstream gradient.
    const fused = !none && recording();
    const args = { logits, target, weight, scalars, lossShape: none ? rowLayout(logits.shape).rowShape : [] };
    this.#calls.checkCrossEntropy(args, fused);
    const constants = weight instanceof tf.Tensor ? [target, weight] : [target];
    const loss = tf.customGrad((x, save) => {
      const { value, grads } = this.#calls.crossEntropy(operation, { ...args, logits: x as tf.Tensor }, fused);
      keepForBackward(save as tf.GradSaveFunc, grads, none ? [x as tf.Tensor, ...constants] : undefined);
      return {
        value,
        gradFunc: (dy, saved) => {
          if (!none) return timesUpstream(backend, savedTensors(saved, 1, operation)[0]!, dy);
          const [x0, y0, w0] = savedTensors(saved, 1 + constants.length, operation);
          return this.#calls.crossEntropy(operation, { ...args, logits: x0!, target: y0!, weight: w0 ?? weight }, true, dy)
            .grads![0]!;
        },
      };
    });
    return loss(logits);
  }

  /**
   * Binary cross-entropy, elementwise: `BCEWithLogitsLoss` (or `BCELoss` with `input:
   * 'probabilities'`) of float32 `logits` against float32 `target` of the same shape.
   *
   * @example
   * const loss = losses.binaryCrossEntropy(logits, labels, { posWeight: new Float32Array([3, 1]) });
   */
  binaryCrossEntropy(logits: tf.Tensor, target: tf.Tensor, options?: TfjsBinaryOptions): tf.Tensor {
    const operation = 'TfjsCrossEntropy.binaryCrossEntropy';
    const backend = this.#begin(operation);
    const { weight, posWeight, ...scalars } = readAdapterOptions(options, operation);
    checkTensor(operation, 'logits', logits, backend, ['float32']);
    checkTensor(operation, 'target', target, backend, ['float32']);
    const hostWeight = this.#hostArray(operation, 'options.weight', weight);
    const hostPosWeight = this.#hostArray(operation, 'options.posWeight', posWeight);
    const args = { logits, target, lossShape: (scalars.reduction ?? 'mean') === 'none' ? logits.shape : [], options: {
      ...scalars, ...(hostWeight ? { weight: hostWeight } : {}), ...(hostPosWeight ? { posWeight: hostPosWeight } : {}) } };
    // Every reduction's gradient comes with the loss and is multiplied by dy (elementwise for 'none').
    const withGrad = recording();
    this.#calls.checkBinary(args, withGrad);
    const loss = tf.customGrad((x, save) => {
      const { value, grads } = this.#calls.binary(operation, { ...args, logits: x as tf.Tensor }, withGrad);
      keepForBackward(save as tf.GradSaveFunc, grads);
      return { value, gradFunc: (dy, saved) => timesUpstream(backend, savedTensors(saved, 1, operation)[0]!, dy) };
    });
    return loss(logits);
  }

  /**
   * The linear head: cross-entropy of `hidden · classifierᵀ + bias` against int32 class indices,
   * without holding the N × V logits (ce.linear). Gradients go to `hidden`, `classifier` and
   * `options.bias`.
   *
   * @example
   * const loss = losses.linear(hidden, classifier, labels, { bias });   // hidden [N, D], classifier [V, D]
   */
  linear(hidden: tf.Tensor, classifier: tf.Tensor, target: tf.Tensor, options?: TfjsLinearOptions): tf.Tensor {
    const operation = 'TfjsCrossEntropy.linear';
    const backend = this.#begin(operation);
    const { bias, weight, ...scalars } = readAdapterOptions(options, operation);
    checkTensor(operation, 'hidden', hidden, backend, ['float32']);
    checkTensor(operation, 'classifier', classifier, backend, ['float32']);
    checkTensor(operation, 'target', target, backend, ['int32'], ' (class indices: the linear head takes no probabilities)');
    if (bias !== undefined) checkTensor(operation, 'options.bias', bias, backend, ['float32']);
    if (weight instanceof tf.Tensor) checkTensor(operation, 'options.weight', weight, backend, ['float32']);
    const none = (scalars.reduction ?? 'mean') === 'none';
    const fused = !none && recording();
    const args = { hidden, classifier, target, bias, weight, scalars, lossShape: none ? target.shape : [] };
    this.#calls.checkLinear(args, fused);
    // The parameters, which get gradients, then the constants the backward pass of 'none' reads.
    const parameters = bias ? [hidden, classifier, bias] : [hidden, classifier];
    const constants = weight instanceof tf.Tensor ? [target, weight] : [target];
    const loss = tf.customGrad((...inputs) => {
      const [h, w, b] = inputs.slice(0, parameters.length) as tf.Tensor[];
      const { value, grads } = this.#calls.linear(operation, { ...args, hidden: h!, classifier: w!, bias: b }, fused);
      keepForBackward(inputs[parameters.length] as tf.GradSaveFunc, grads,
        none ? [...inputs.slice(0, parameters.length) as tf.Tensor[], ...constants] : undefined);
      return {
        value,
        gradFunc: (dy, saved) => {
          if (!none) return savedTensors(saved, parameters.length, operation).map((g) => timesUpstream(backend, g, dy));
          const kept = savedTensors(saved, parameters.length + constants.length, operation);
          const [h0, w0] = kept;
          const [y0, weight0] = kept.slice(parameters.length);
          const again = { ...args, hidden: h0!, classifier: w0!, target: y0!, bias: bias ? kept[2] : undefined,
            weight: weight0 ?? weight };
          return this.#calls.linear(operation, again, true, dy).grads!;
        },
      };
    });
    return loss(...parameters);
  }

  /**
   * For a layers model's `compile({ loss })`: `(yTrue, yPred) => crossEntropy(yPred, yTrue, options)`.
   *
   * @example
   * model.compile({ optimizer: 'sgd', loss: losses.lossFunction({ labelSmoothing: 0.1 }) });
   */
  lossFunction(options?: TfjsCrossEntropyOptions): TfjsLossFunction {
    return (yTrue, yPred) => this.crossEntropy(yPred, yTrue, options);
  }

  /**
   * For a layers model's `compile({ loss })`: `(yTrue, yPred) => binaryCrossEntropy(yPred, yTrue, options)`.
   *
   * @example
   * model.compile({ optimizer: 'adam', loss: losses.binaryLossFunction() });
   */
  binaryLossFunction(options?: TfjsBinaryOptions): TfjsLossFunction {
    return (yTrue, yPred) => this.binaryCrossEntropy(yPred, yTrue, options);
  }

  /**
   * Waits until every call so far has been reported on by WebGPU (and, for class indices on the
   * GPU, checked there); rejects with the first error not yet thrown.
   *
   * @example
   * for (let step = 0; step < 100; step++) optimizer.minimize(() => losses.crossEntropy(model(x), y));
   * await losses.settled(); // throws if any step's GPU work failed
   */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure) throw failure;
  }

  /** Frees the library's buffers on TF.js's device (never the device, nor TF.js's tensors). */
  destroy(): void {
    this.#destroyed = true;
    this.#ce.destroy();
  }

  /** Before a call: throws an error reported since the last call, or why no call can run now. */
  #begin(operation: string): WebGpuBackend {
    if (this.#destroyed) throw new Error(`${operation}: this TfjsCrossEntropy was destroyed; create a new one`);
    const failure = this.#failure;
    if (failure) {
      this.#failure = undefined;
      const Kind = failure instanceof RangeError ? RangeError : Error;
      throw new Kind(`${operation}: an earlier call failed on the GPU: ${failure.message}`, { cause: failure });
    }
    const current = tf.backend();
    if (current !== this.#backend) {
      throw new Error(`${operation}: TF.js's backend is now ${backendName(current)}; this TfjsCrossEntropy runs on `
        + `${backendName(this.#backend)}, the one it was created on (tf.setBackend to return to it)`);
    }
    return this.#backend;
  }

  #follow(operation: string, reported: Promise<void>): void {
    const followed = reported.catch((error: unknown) => {
      // After destroy(), calls in flight fail for that reason alone: nothing to report.
      if (this.#destroyed) return;
      const failure = error instanceof Error ? error : new Error(`${operation}: ${String(error)}`);
      this.#failure ??= failure;
      this.#onError?.(failure);
    });
    this.#pending.add(followed);
    void followed.finally(() => this.#pending.delete(followed));
  }

  /** A weight the library takes from the host: a Float32Array, or a tensor whose values TF.js holds on the CPU. */
  #hostArray(operation: string, name: string, value: WeightOption): Float32Array | undefined {
    if (!(value instanceof tf.Tensor)) return value;
    checkTensor(operation, name, value, this.#backend, ['float32']);
    if (onGpu(this.#backend, value)) {
      throw new TypeError(`${operation}: ${name} is a tf.Tensor whose values are on the GPU, but binary cross-entropy takes `
        + 'it from the host: pass a Float32Array (await tensor.data() once, before training)');
    }
    return value.dataSync() as Float32Array;
  }
}
