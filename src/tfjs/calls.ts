/**
 * The adapter's calls of the library: one loss's arguments as the library takes them (each tensor's
 * data read by whoever asks: a stand-in to check the call before any GPU work, the data itself to
 * run it), its work submitted, its results as TF.js tensors, and the library's buffers handed back.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SyncCalls, SyncRun } from '../cross-entropy.js';
import type { BinaryOptions } from '../binary.js';
import type { CrossEntropyOptions, LinearOptions, LogitsInput, TargetInput } from '../types.js';
import type { TfjsCrossEntropyOptions, TfjsLinearOptions } from './options.js';
import {
  checkedData, floatData, onGpu, releaseCopies, tensorData, tensorFromBuffer, type TensorData, type WebGpuBackend,
} from './tensors.js';

/** A host array or a tensor, as a weight option is given. */
export type WeightOption = tf.Tensor | Float32Array | undefined;

export interface CrossEntropyArgs {
  readonly logits: tf.Tensor;
  readonly target: tf.Tensor;
  readonly weight: WeightOption;
  readonly scalars: Omit<TfjsCrossEntropyOptions, 'weight'>;
  readonly lossShape: readonly number[];
}

export interface BinaryArgs {
  readonly logits: tf.Tensor;
  readonly target: tf.Tensor;
  /** The library's options: reduction, input, and weight and posWeight read from the host. */
  readonly options: BinaryOptions;
  readonly lossShape: readonly number[];
}

export interface LinearArgs {
  readonly hidden: tf.Tensor;
  readonly classifier: tf.Tensor;
  readonly target: tf.Tensor;
  readonly bias?: tf.Tensor;
  readonly weight: WeightOption;
  readonly scalars: Omit<TfjsLinearOptions, 'bias' | 'weight'>;
  readonly lossShape: readonly number[];
}

type Read = (tensor: tf.Tensor) => GPUBuffer | Float32Array | Int32Array;

/** A call's results as TF.js tensors: the loss, and the gradients asked for. */
export interface Results {
  readonly value: tf.Tensor;
  readonly grads?: tf.Tensor[];
}

export class LibraryCalls {
  readonly #sync: SyncCalls;
  readonly #backend: WebGpuBackend;
  readonly #follow: (operation: string, reported: Promise<void>) => void;

  /** `follow` takes each call's report (WebGPU's errors, the GPU's class-index check). */
  constructor(sync: SyncCalls, backend: WebGpuBackend, follow: (operation: string, reported: Promise<void>) => void) {
    this.#sync = sync;
    this.#backend = backend;
    this.#follow = follow;
  }

  /** Throws what the call would, before any GPU work (tensors on the GPU stand in by their size). */
  checkCrossEntropy(args: CrossEntropyArgs, grad: boolean): void {
    this.#sync.checkForward(...this.#forwardArgs(this.#checked, args, grad));
  }

  /** F.cross_entropy; with `grad`, its gradient too (for `dy`, given: the upstream gradient of 'none'). */
  crossEntropy(operation: string, args: CrossEntropyArgs, grad: boolean, dy?: tf.Tensor): Results {
    return this.#reading((read, copies) => {
      const run = this.#sync.forward(...this.#forwardArgs(read, args, grad, dy));
      const logits = copies.get(args.logits);
      return this.#handOver(operation, run, () => ({
        value: tensorFromBuffer(run.loss, args.lossShape),
        grads: grad ? [this.#gradient(run, logits, args.logits.shape)] : undefined,
      }));
    });
  }

  checkBinary(args: BinaryArgs, grad: boolean): void {
    this.#sync.checkBinary(...this.#binaryArgs(this.#checked, args, grad));
  }

  /** Binary cross-entropy; with `grad`, its gradient for an upstream gradient of ones. */
  binary(operation: string, args: BinaryArgs, grad: boolean): Results {
    return this.#reading((read, copies) => {
      const run = this.#sync.binary(...this.#binaryArgs(read, args, grad));
      const logits = copies.get(args.logits);
      return this.#handOver(operation, run, () => ({
        value: tensorFromBuffer(run.loss, args.lossShape),
        grads: grad ? [this.#gradient(run, logits, args.logits.shape)] : undefined,
      }));
    });
  }

  checkLinear(args: LinearArgs, grad: boolean): void {
    this.#sync.checkLinear(...this.#linearArgs(this.#checked, args, grad));
  }

  /** The linear head; with `grad`, the gradients of hidden, classifier and bias (in that order). */
  linear(operation: string, args: LinearArgs, grad: boolean, dy?: tf.Tensor): Results {
    return this.#reading((read) => {
      const run = this.#sync.linear(...this.#linearArgs(read, args, grad, dy));
      const { hidden, classifier, bias } = args;
      return this.#handOver(operation, run, () => ({
        value: tensorFromBuffer(run.loss, args.lossShape),
        grads: grad ? [tensorFromBuffer(run.grad.hidden!, hidden.shape),
          tensorFromBuffer(run.grad.classifier!, classifier.shape),
          ...(bias ? [tensorFromBuffer(run.grad.bias!, bias.shape)] : [])] : undefined,
      }));
    });
  }

  readonly #checked: Read = (tensor) => checkedData(this.#backend, tensor);

  #forwardArgs(read: Read, a: CrossEntropyArgs, grad: boolean,
    dy?: tf.Tensor): [LogitsInput, TargetInput, CrossEntropyOptions] {
    const weight = a.weight instanceof tf.Tensor ? floatData(read(a.weight)) : a.weight;
    // The gradient goes over TF.js's copy of logits on the GPU (the library's own upload of host ones).
    return [{ data: floatData(read(a.logits)), shape: a.logits.shape }, { data: read(a.target), shape: a.target.shape },
      { ...a.scalars, weight, grad, gradInPlace: grad && onGpu(this.#backend, a.logits),
        ...(dy === undefined ? {} : { gradOutput: floatData(read(dy)) }) }];
  }

  #binaryArgs(read: Read, a: BinaryArgs, grad: boolean): [LogitsInput, TargetInput, BinaryOptions] {
    return [{ data: floatData(read(a.logits)), shape: a.logits.shape }, { data: read(a.target), shape: a.target.shape },
      { ...a.options, grad, gradInPlace: grad && onGpu(this.#backend, a.logits) }];
  }

  #linearArgs(read: Read, a: LinearArgs, grad: boolean,
    dy?: tf.Tensor): [LogitsInput, LogitsInput, TargetInput, LinearOptions] {
    const float = (tensor: tf.Tensor) => floatData(read(tensor));
    return [{ data: float(a.hidden), shape: a.hidden.shape }, { data: float(a.classifier), shape: a.classifier.shape },
      { data: read(a.target), shape: a.target.shape }, { ...a.scalars, grad,
        ...(a.bias ? { bias: float(a.bias) } : {}),
        ...(a.weight === undefined ? {} : { weight: a.weight instanceof tf.Tensor ? float(a.weight) : a.weight }),
        ...(dy === undefined ? {} : { gradOutput: float(dy) }) }];
  }

  /**
   * Runs `call` with a reader of the tensors' data (TF.js's GPU copies or host arrays, each tensor
   * read once), then frees the copies: after the call's work and TF.js's copies of its results are
   * submitted.
   */
  #reading<T>(call: (read: Read, copies: Map<tf.Tensor, TensorData>) => T): T {
    const copies = new Map<tf.Tensor, TensorData>();
    const read: Read = (tensor) => {
      let data = copies.get(tensor);
      if (data === undefined) copies.set(tensor, (data = tensorData(this.#backend, tensor)));
      return data.data;
    };
    try {
      return call(read, copies);
    } finally {
      releaseCopies(...copies.values());
    }
  }

  /**
   * The gradient as a tensor: written in place over TF.js's copy of logits it held on the GPU, that
   * copy's own tensor (it outlives the copy's release, sharing its data); else a copy of the
   * library's buffer.
   */
  #gradient(run: Pick<SyncRun, 'grad'>, logits: TensorData | undefined, shape: readonly number[]): tf.Tensor {
    return logits?.copy ? tf.reshape(logits.copy, shape as number[]) : tensorFromBuffer(run.grad!, shape);
  }

  /**
   * Makes the call's output tensors (TF.js copies the library's buffers at once), then hands the
   * library's buffers back and follows the call's report.
   */
  #handOver<T>(operation: string, run: { reported: Promise<void>; release(): void }, make: () => T): T {
    try {
      return make();
    } finally {
      run.release();
      this.#follow(operation, run.reported);
    }
  }
}
