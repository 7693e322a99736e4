/**
 * The adapter's options: the library's (PyTorch's), less what the adapter decides itself (whether
 * and where the gradient is computed), with tf.Tensors accepted where the library takes a buffer.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { describeKind } from '../tensor-data.js';
import type { InputKind, Reduction } from '../types.js';

/** Options of `TfjsCrossEntropy.crossEntropy`: `F.cross_entropy`'s, each with PyTorch's default. */
export interface TfjsCrossEntropyOptions {
  /** 'mean' (default), 'sum' or 'none' (one loss per row: the target's shape). */
  readonly reduction?: Reduction;
  /** Per-class weight [C]: a float32 tf.Tensor or a Float32Array. */
  readonly weight?: tf.Tensor | Float32Array;
  /** Class-index targets equal to this are ignored (default -100). */
  readonly ignoreIndex?: number;
  /** Label smoothing epsilon in [0, 1] (default 0), as PyTorch's. */
  readonly labelSmoothing?: number;
  /** What the values are: 'logits' (default), 'probabilities' or 'logProbabilities' (`F.nll_loss`). */
  readonly input?: InputKind;
  /** Coefficient of lse² added to each row's loss (default 0). */
  readonly zLoss?: number;
  /** Logits become softcap·tanh(x / softcap) first (default off). */
  readonly softcap?: number;
}

/** Options of `TfjsCrossEntropy.binaryCrossEntropy`: `BCEWithLogitsLoss`'s (or `BCELoss`'s). */
export interface TfjsBinaryOptions {
  /** 'mean' (default, over all elements), 'sum' or 'none'. */
  readonly reduction?: Reduction;
  /** 'logits' (default, BCEWithLogitsLoss) or 'probabilities' (BCELoss). */
  readonly input?: 'logits' | 'probabilities';
  /**
   * Rescales each element, broadcast over the leading dimensions: host data (a Float32Array, or a
   * tf.Tensor whose values TF.js holds on the CPU).
   */
  readonly weight?: tf.Tensor | Float32Array;
  /** Weight of positive examples per class of the last dimension (host data, as `weight`). */
  readonly posWeight?: tf.Tensor | Float32Array;
}

/** Options of `TfjsCrossEntropy.linear`: the linear head's (class indices only). */
export interface TfjsLinearOptions {
  /** nn.Linear's bias [V], added to every row's logits; its gradient goes to TF.js too. */
  readonly bias?: tf.Tensor;
  readonly reduction?: Reduction;
  /** Per-class weight [V]: a float32 tf.Tensor or a Float32Array. */
  readonly weight?: tf.Tensor | Float32Array;
  readonly ignoreIndex?: number;
  readonly labelSmoothing?: number;
  readonly zLoss?: number;
  readonly softcap?: number;
  /** Bytes of logits one chunk of rows may hold (default 32 MiB). */
  readonly memoryBudget?: number;
}

const CROSS_ENTROPY = ['reduction', 'weight', 'ignoreIndex', 'labelSmoothing', 'input', 'zLoss', 'softcap'] as const;
const BINARY = ['reduction', 'input', 'weight', 'posWeight'] as const;
const LINEAR = ['bias', 'reduction', 'weight', 'ignoreIndex', 'labelSmoothing', 'zLoss', 'softcap', 'memoryBudget'] as const;

/** The options each adapter function takes. */
export const ADAPTER_OPTIONS = {
  'TfjsCrossEntropy.create': ['onError', 'poisonOutputs', 'subgroups'],
  'TfjsCrossEntropy.crossEntropy': CROSS_ENTROPY,
  'TfjsCrossEntropy.binaryCrossEntropy': BINARY,
  'TfjsCrossEntropy.linear': LINEAR,
} as const;

/** The library's options the adapter sets itself. */
const GRADIENT_OPTIONS = ['grad', 'gradOutput', 'gradInPlace', 'gradDtype', 'encoder'];

/**
 * Checks that `options` is an object (absent: `{}`) of options `operation` takes, with a TypeError
 * naming any other: the gradient options say that TF.js asks for the gradient.
 */
export function readAdapterOptions<T extends object>(options: T | undefined, operation: keyof typeof ADAPTER_OPTIONS): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${operation}: options must be an object, got ${describeKind(options)}`);
  }
  const known: readonly string[] = ADAPTER_OPTIONS[operation];
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    if (key === 'device' && operation === 'TfjsCrossEntropy.create') {
      throw new TypeError(`${operation}: option "device" is not taken: the adapter runs on the device of TF.js's `
        + 'WebGPU backend (tf.backend().device)');
    }
    if (GRADIENT_OPTIONS.includes(key)) {
      throw new TypeError(`${operation}: option "${key}" is not taken: TF.js asks for the gradient (tf.grad, `
        + 'tf.variableGrads, optimizer.minimize), and the adapter computes it with this library\'s kernels');
    }
    throw new TypeError(`${operation}: unknown option "${key}" (known: ${known.join(', ')})`);
  }
  return options;
}
