/**
 * The TF.js suite (docs/tfjs.md, Performance): in headless Chromium, on TF.js's WebGPU backend on
 * a device of the suite's own, the adapter's loss (webgpu-cross-entropy/tfjs) against TF.js's
 * tf.losses.softmaxCrossEntropy, each inside TF.js:
 * - `step`: a training step of a dense layer, logits = x · W: forward, gradients and SGD's update
 *   (optimizer.minimize), the loss read back;
 * - `loss+grad`: the loss and its gradient with respect to given logits (tf.valueAndGrad), the loss
 *   read back;
 * - `loss`: the loss alone, read back.
 * Candidates are timed in interleaved rounds after warm-ups (each round starting one candidate
 * later), the median kept. Each loss is checked: the `loss` and `loss+grad` candidates against the
 * float64 reference, the two `step` candidates (each with its own copy of the same initial W)
 * against each other, step by step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyReference } from '../src/index.js';
import { TfjsCrossEntropy } from '../src/tfjs/index.js';
import { initTfjs } from './peers.js';

/** A shape of the suite: N rows of C classes; a step's layer takes D features. */
export interface TfjsBenchShape {
  readonly n: number;
  readonly d: number;
  readonly c: number;
}

export interface TfjsSuiteConfig {
  readonly shapes: readonly TfjsBenchShape[];
  readonly rounds: number;
  readonly warmup: number;
}

/** One timed candidate's result. */
export interface TfjsRow {
  readonly shape: [number, number, number];
  /** What is timed: 'step', 'loss+grad' or 'loss'. */
  readonly task: string;
  /** 'ours' (the adapter) or 'tfjs' (tf.losses.softmaxCrossEntropy). */
  readonly loss: 'ours' | 'tfjs';
  readonly median_ms: number | null;
  readonly runs: number;
  /** |value − expected| / |expected|: against float64, or for `step` against the other loss's step. */
  readonly rel_error: number | null;
  readonly note?: string;
}

interface Candidate {
  readonly task: string;
  readonly loss: 'ours' | 'tfjs';
  readonly run: () => Promise<number>;
  readonly times: number[];
  readonly values: number[];
}

function seeded(seed: number, count: number, scale: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 * 2 - 1) * scale;
  });
}

/** The candidates of one shape; `dispose` frees their tensors. */
function prepare(losses: TfjsCrossEntropy, { n, d, c }: TfjsBenchShape): { candidates: Candidate[]; reference: number;
  dispose: () => void; } {
  const logitValues = seeded(1, n * c, 3);
  const labels = Int32Array.from(seeded(2, n, 1), (v) => Math.min(c - 1, Math.floor((v + 1) / 2 * c)));
  const reference = crossEntropyReference({ data: logitValues, shape: [n, c] }, { data: labels, shape: [n] }).loss as number;
  const x = tf.tensor2d(seeded(3, n * d, 1), [n, d]);
  const initial = seeded(4, d * c, 1 / Math.sqrt(d));
  const logits = tf.tensor2d(logitValues, [n, c]);
  const target = tf.tensor1d(labels, 'int32');
  // TF.js's loss takes one-hot labels: made once, untimed.
  const onehot = tf.tidy(() => tf.cast(tf.oneHot(target, c), 'float32'));
  const lossOf = {
    ours: (z: tf.Tensor) => losses.crossEntropy(z, target) as tf.Scalar,
    tfjs: (z: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, z) as tf.Scalar,
  };
  const owned: tf.Tensor[] = [x, logits, target, onehot];
  const candidates: Candidate[] = [];
  for (const loss of ['ours', 'tfjs'] as const) {
    const weights = tf.variable(tf.tensor2d(initial, [d, c]));
    const optimizer = tf.train.sgd(0.01);
    owned.push(weights);
    const withGrad = tf.valueAndGrad(lossOf[loss]);
    const read = async (t: tf.Tensor) => {
      const [value] = await t.data();
      t.dispose();
      return value!;
    };
    candidates.push(
      { task: 'step', loss, times: [], values: [],
        run: () => read(optimizer.minimize(() => lossOf[loss](tf.matMul(x, weights)), true)!) },
      { task: 'loss+grad', loss, times: [], values: [], run: () => {
        const { value, grad } = withGrad(logits);
        grad.dispose();
        return read(value);
      } },
      { task: 'loss', loss, times: [], values: [], run: () => read(lossOf[loss](logits)) },
    );
  }
  return { candidates, reference, dispose: () => tf.dispose(owned) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The largest relative difference of two candidates' step losses, call by call. */
function stepDifference(a: Candidate, b: Candidate): number {
  return Math.max(...a.values.map((value, i) => Math.abs(value - b.values[i]!) / Math.abs(b.values[i]!)));
}

/** Runs the suite on a device of its own; `progress` hears of each shape and round. */
export async function runTfjsSuite(config: TfjsSuiteConfig, progress: (message: string) => void): Promise<TfjsRow[]> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice({ requiredLimits: {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
  await initTfjs(device, adapter.info);
  const losses = await TfjsCrossEntropy.create();
  const rows: TfjsRow[] = [];
  try {
    for (const shape of config.shapes) {
      const label = `[${shape.n}, ${shape.c}] (D = ${shape.d})`;
      const { candidates, reference, dispose } = prepare(losses, shape);
      try {
        // Every candidate's calls in the same order: the two steps' losses stay comparable call by call.
        for (let w = 0; w < config.warmup; w++) {
          progress(`TF.js ${label}: warm-up ${w + 1}/${config.warmup}`);
          for (const candidate of candidates) candidate.values.push(await candidate.run());
        }
        for (let round = 0; round < config.rounds; round++) {
          progress(`TF.js ${label}: round ${round + 1}/${config.rounds}`);
          const order = candidates.map((_, i) => candidates[(i + round) % candidates.length]!);
          for (const candidate of order) {
            const start = performance.now();
            const value = await candidate.run();
            candidate.times.push(performance.now() - start);
            candidate.values.push(value);
          }
        }
        await losses.settled();
        const steps = candidates.filter((c) => c.task === 'step');
        for (const candidate of candidates) {
          const error = candidate.task === 'step' ? stepDifference(steps[0]!, steps[1]!)
            : Math.max(...candidate.values.map((value) => Math.abs(value - reference) / reference));
          rows.push({ shape: [shape.n, shape.d, shape.c], task: candidate.task, loss: candidate.loss,
            median_ms: median(candidate.times), runs: candidate.times.length, rel_error: error });
        }
      } finally {
        dispose();
      }
    }
  } finally {
    losses.destroy();
    tf.removeBackend('webgpu');
    device.destroy();
  }
  return rows;
}
