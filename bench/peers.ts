/**
 * The peers, each prepared once per shape with its inputs already on the GPU: TF.js's WebGPU
 * backend (on the benchmark's own device) and jax-js on its WebGPU backend. Each returns the loss
 * read back on the host; the gradient variants also finish computing the gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone has no gradients registered; the full tfjs bundle imports this module.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { blockUntilReady, defaultDevice, init, jit, nn, numpy as np, valueAndGrad } from '@jax-js/jax';

/** A prepared implementation: one timed call per function; `dispose` frees its inputs. */
export interface Prepared {
  readonly forward: () => Promise<number>;
  readonly forwardGrad: () => Promise<number>;
  readonly dispose: () => void;
}

/** Logits with classes on the last axis ([rows, C]), as both peers expect, and class indices. */
export interface RowMajorProblem {
  readonly rows: number;
  readonly classes: number;
  readonly logits: Float32Array;
  readonly targets: Int32Array;
}

export async function initTfjs(device: GPUDevice, info: GPUAdapterInfo): Promise<void> {
  // Replace the backend factory the package registered (which would request a device of its own).
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info));
  await tf.setBackend('webgpu');
  await tf.ready();
}

export function prepareTfjs(p: RowMajorProblem): Prepared {
  const logits = tf.tensor2d(p.logits, [p.rows, p.classes]);
  const onehot = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(p.targets, 'int32'), p.classes), 'float32'));
  const lossOf = (x: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, x, undefined, 0, tf.Reduction.MEAN);
  const valueAndGradient = tf.valueAndGrad((x: tf.Tensor) => lossOf(x) as tf.Scalar);
  return {
    forward: async () => {
      const loss = lossOf(logits);
      const [value] = await loss.data();
      loss.dispose();
      return value!;
    },
    forwardGrad: async () => {
      const { value, grad } = valueAndGradient(logits);
      const [v] = await value.data();
      value.dispose();
      grad.dispose();
      return v!;
    },
    dispose: () => {
      logits.dispose();
      onehot.dispose();
    },
  };
}

export async function initJaxjs(): Promise<boolean> {
  const devices = await init();
  if (!devices.includes('webgpu')) return false;
  defaultDevice('webgpu');
  return true;
}

export function prepareJaxjs(p: RowMajorProblem): Prepared {
  const logits = np.array(p.logits).reshape([p.rows, p.classes]);
  const targets = np.array(p.targets, { dtype: np.int32 }).reshape([p.rows, 1]);
  const lossOf = (x: np.Array, t: np.Array) =>
    np.takeAlongAxis(nn.logSoftmax(x, -1), t, 1).mean().neg();
  const forward = jit(lossOf);
  // Under jit, the gather's gradient (a scatter) fails to compile in jax-js 0.1.25 ("routine
  // primitive scatter input is not imm"); the gradient runs eagerly instead.
  const withGrad = valueAndGrad(lossOf);
  return {
    forward: async () => {
      const loss = forward(logits.ref, targets.ref);
      const [value] = await loss.data();
      return value!;
    },
    forwardGrad: async () => {
      const [value, grad] = withGrad(logits.ref, targets.ref) as [np.Array, np.Array];
      await blockUntilReady(grad.ref);
      grad.dispose();
      const [v] = await value.data();
      return v!;
    },
    dispose: () => {
      logits.dispose();
      targets.dispose();
    },
  };
}

/** The linear head's inputs, row-major f32: hidden [n, d], classifier [v, d], bias [v], class indices [n]. */
export interface LinearHeadProblem {
  readonly n: number;
  readonly d: number;
  readonly v: number;
  readonly hidden: Float32Array;
  readonly classifier: Float32Array;
  readonly bias: Float32Array;
  readonly targets: Int32Array;
}

/** A prepared TF.js linear head: a timed step (the loss read back), its gradients read once, `dispose`. */
export interface PreparedTfjsLinear {
  readonly step: () => Promise<number>;
  /** One more step with d(hidden), d(classifier) and d(bias) read back, to check them. */
  readonly grads: () => Promise<{ loss: number; hidden: Float32Array; classifier: Float32Array; bias: Float32Array }>;
  readonly dispose: () => void;
}

/**
 * TF.js's linear head: logits = tf.matMul(hidden, classifier, false, true) + bias (all N × V of
 * them), tf.losses.softmaxCrossEntropy against one-hot targets (made here, untimed), and the
 * gradients of hidden, classifier and bias through tf.valueAndGrads.
 */
export function prepareTfjsLinear(p: LinearHeadProblem): PreparedTfjsLinear {
  const hidden = tf.tensor2d(p.hidden, [p.n, p.d]);
  const classifier = tf.tensor2d(p.classifier, [p.v, p.d]);
  const bias = tf.tensor1d(p.bias);
  const onehot = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(p.targets, 'int32'), p.v), 'float32'));
  const lossOf = (h: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot,
    tf.add(tf.matMul(h, w, false, true), b), undefined, 0, tf.Reduction.MEAN) as tf.Scalar;
  const valueAndGrads = tf.valueAndGrads(lossOf as (...args: tf.Tensor[]) => tf.Scalar);
  const run = () => valueAndGrads([hidden, classifier, bias]);
  return {
    step: async () => {
      const { value, grads } = run();
      const [loss] = await value.data();
      value.dispose();
      grads.forEach((g) => g.dispose());
      return loss!;
    },
    grads: async () => {
      const { value, grads } = run();
      const [loss, h, w, b] = await Promise.all([value.data(), ...grads.map((g) => g.data())]);
      value.dispose();
      grads.forEach((g) => g.dispose());
      return { loss: loss![0]!, hidden: h as Float32Array, classifier: w as Float32Array, bias: b as Float32Array };
    },
    dispose: () => [hidden, classifier, bias, onehot].forEach((t) => t.dispose()),
  };
}

/**
 * tf.matMul(a [m, k], b [p, k], false, true): the logits product. A timed call reads back one
 * element of the product (through tf.slice); `full` reads the whole product once, to check it.
 */
export function prepareTfjsMatmul(a: Float32Array, b: Float32Array, m: number, k: number, p: number) {
  const left = tf.tensor2d(a, [m, k]);
  const right = tf.tensor2d(b, [p, k]);
  return {
    run: async () => {
      const product = tf.matMul(left, right, false, true);
      const first = tf.slice(product, [0, 0], [1, 1]);
      const [value] = await first.data();
      product.dispose();
      first.dispose();
      return value!;
    },
    full: async () => {
      const product = tf.matMul(left, right, false, true);
      const values = await product.data();
      product.dispose();
      return values as Float32Array;
    },
    dispose: () => {
      left.dispose();
      right.dispose();
    },
  };
}
