/**
 * The TF.js adapter (webgpu-cross-entropy/tfjs) on TF.js's WebGPU backend in Node (Dawn): losses
 * and the gradients TF.js gets from them against the float64 references, for tensors TF.js holds
 * on the GPU and on the CPU; inside tf.grad, tf.variableGrads, optimizer.minimize and a layers
 * model's compile({ loss }) (probability targets: layers checks a target's shape against the
 * model's output, so class indices [N] do not pass its fit()); 1,000
 * training steps with tf.memory().numTensors and gpuMemory() flat; class indices out of range
 * found on the GPU; the errors, before any GPU work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-core';
import {
  binaryCrossEntropyReference, compareArrays, crossEntropyReference, describeComparison, linearCrossEntropyReference,
  TOLERANCES, type Reduction, type ReferenceOptions,
} from '../../src/index.js';
import { TfjsCrossEntropy, type TfjsCrossEntropyOptions } from '../../src/tfjs/index.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { linearMismatch } from '../helpers/linear-tolerance.js';
import { useTfjsWebGpu } from '../helpers/tfjs-node.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { requireDevice } from '../helpers/webgpu-node.js';

const found = await requireDevice();
const tf = found ? await useTfjsWebGpu(found) : (undefined as unknown as typeof TF);

/** A seeded stream of values in [-1, 1). */
function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 2 ** 32) * 2 - 1;
  };
}

function values(count: number, seed: number, scale = 3): Float32Array {
  const next = seeded(seed);
  return Float32Array.from({ length: count }, () => next() * scale);
}

function classIndices(count: number, classes: number, seed: number, ignoreEvery = 0): Int32Array {
  const next = seeded(seed);
  return Int32Array.from({ length: count }, (_, i) => (ignoreEvery > 0 && i % ignoreEvery === 0 ? -100
    : Math.floor(((next() + 1) / 2) * classes)));
}

function probabilities(rows: number, classes: number, seed: number): Float32Array {
  const raw = values(rows * classes, seed).map((v) => Math.exp(v));
  for (let r = 0; r < rows; r++) {
    const row = raw.subarray(r * classes, (r + 1) * classes);
    const sum = row.reduce((a, b) => a + b, 0);
    row.forEach((v, c) => { row[c] = v / sum; });
  }
  return raw;
}

/** A tensor TF.js holds on the GPU (`where: 'gpu'`) or on the CPU, as TF.js keeps small new tensors. */
function tensorOn(where: 'gpu' | 'cpu', data: Float32Array | Int32Array, shape: number[]): TF.Tensor {
  const dtype = data instanceof Int32Array ? 'int32' : 'float32';
  const host = tf.tensor(data, shape, dtype);
  if (where === 'cpu') return host;
  // An op on the GPU: with WEBGPU_CPU_FORWARD off, even a small one runs there.
  const forward = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  try {
    const moved = tf.add(host, tf.scalar(0, dtype));
    host.dispose();
    return moved;
  } finally {
    tf.env().set('WEBGPU_CPU_FORWARD', forward);
  }
}

function onGpu(tensor: TF.Tensor): boolean {
  const backend = tf.backend() as unknown as { tensorMap: { get(id: object): { resource?: unknown } } };
  return backend.tensorMap.get(tensor.dataId)?.resource != null;
}

let losses: TfjsCrossEntropy;
beforeAll(async () => {
  if (found) losses = await TfjsCrossEntropy.create({ poisonOutputs: true });
});
afterAll(() => losses?.destroy());

interface CrossEntropyCase {
  readonly name: string;
  readonly shape: number[];
  readonly target: 'classIndex' | 'probabilities';
  readonly options: Omit<TfjsCrossEntropyOptions, 'weight'> & { weighted?: boolean };
}

const CASES: CrossEntropyCase[] = [
  { name: 'mean', shape: [8, 10], target: 'classIndex', options: {} },
  { name: 'sum, weight, ignoreIndex, smoothing', shape: [33, 70], target: 'classIndex',
    options: { reduction: 'sum', weighted: true, ignoreIndex: -100, labelSmoothing: 0.1 } },
  { name: "'none', z-loss, softcap", shape: [16, 1001], target: 'classIndex',
    options: { reduction: 'none', zLoss: 1e-3, softcap: 5 } },
  { name: 'probabilities, weight', shape: [12, 40], target: 'probabilities', options: { weighted: true } },
  { name: "probabilities 'none'", shape: [5, 7], target: 'probabilities', options: { reduction: 'none', labelSmoothing: 0.2 } },
  { name: 'K-dim [N, C, d1, d2]', shape: [2, 5, 3, 4], target: 'classIndex', options: { weighted: true, labelSmoothing: 0.05 } },
  { name: "K-dim 'none'", shape: [2, 5, 3, 4], target: 'classIndex', options: { reduction: 'none' } },
  { name: 'one sample [C]', shape: [9], target: 'classIndex', options: {} },
  { name: 'log-probabilities (nll_loss)', shape: [6, 4], target: 'classIndex', options: { input: 'logProbabilities' } },
  { name: "an empty batch, 'sum'", shape: [0, 5], target: 'classIndex', options: { reduction: 'sum' } },
  { name: "an empty batch, 'none'", shape: [0, 5], target: 'classIndex', options: { reduction: 'none' } },
];

describe.skipIf(!found)('crossEntropy against the float64 reference', () => {
  describe.each(['gpu', 'cpu'] as const)('tensors on the %s', (where) => {
    it.each(CASES)('$name: loss, and the gradient TF.js gets for dy = 1 and dy ≠ 1', async ({ shape, target: kind, options }) => {
      const classes = shape.length === 1 ? shape[0]! : shape[1]!;
      const rowShape = shape.length === 1 ? [] : [shape[0]!, ...shape.slice(2)];
      const rows = rowShape.reduce((a, b) => a * b, 1);
      const count = rows * classes;
      const logitValues = options.input === 'logProbabilities' ? values(count, 5).map((v) => -Math.abs(v)) : values(count, 3);
      const targetValues = kind === 'classIndex' ? classIndices(rows, classes, 4, options.ignoreIndex === undefined ? 0 : 5)
        : probabilities(rows, classes, 4);
      const weightValues = options.weighted ? values(classes, 6).map((v) => 1.5 + v) : undefined;
      const { weighted: _, ...scalars } = options;
      const logits = tensorOn(where, logitValues, shape);
      const target = tensorOn(where, targetValues, kind === 'classIndex' ? rowShape : shape);
      const weight = weightValues && tensorOn(where, weightValues, [classes]);
      // TF.js keeps an empty tensor's (no) values on the CPU.
      expect(onGpu(logits)).toBe(where === 'gpu' && count > 0);
      const adapterOptions = { ...scalars, ...(weight ? { weight } : {}) };
      const reduction: Reduction = scalars.reduction ?? 'mean';
      const dyValues = reduction === 'none' ? values(rows, 9).map((v) => 1 + v) : new Float32Array([2]);
      const dy = tensorOn(where, dyValues, reduction === 'none' ? rowShape : []);
      const referenceOptions = { ...scalars, ...(weightValues ? { weight: weightValues } : {}), grad: true };
      const logitsIn = { data: logitValues, shape };
      const targetIn = { data: targetValues, shape: kind === 'classIndex' ? rowShape : shape } as const;

      const loss = losses.crossEntropy(logits, target, adapterOptions);
      const unit = tf.grad((x: TF.Tensor) => losses.crossEntropy(x, target, adapterOptions))(logits);
      const scaled = tf.grad((x: TF.Tensor) => losses.crossEntropy(x, target, adapterOptions))(logits, dy);
      expect(loss.shape).toEqual(reduction === 'none' ? rowShape : []);
      expect(unit.shape).toEqual(shape);
      const lossValues = (await loss.data()) as Float32Array;
      expect(lossValues).toHaveLength(loss.size);
      const ones: ReferenceOptions = reduction === 'none' ? { gradOutput: new Float32Array(rows).fill(1) } : {};
      expectMatchesReference({ loss: reduction === 'none' ? lossValues : lossValues[0]!, grad: (await unit.data()) as Float32Array },
        crossEntropyReference(logitsIn, targetIn, { ...referenceOptions, ...ones }), 'dy = 1');
      const reference = crossEntropyReference(logitsIn, targetIn,
        { ...referenceOptions, ...(reduction === 'none' ? { gradOutput: dyValues } : {}) });
      const expected = reduction === 'none' ? reference.grad! : reference.grad!.map((g) => g * dyValues[0]!);
      const c = compareArrays((await scaled.data()), expected, TOLERANCES.grad);
      expect(c.ok, `dy ≠ 1: ${describeComparison(c)}`).toBe(true);
      tf.dispose([logits, target, dy, loss, unit, scaled, ...(weight ? [weight] : [])]);
    });
  });

  it('inside tf.tidy and with a loss of a loss (the adapter\'s tensors are ordinary TF.js tensors)', async () => {
    const logits = tensorOn('gpu', values(40, 1), [4, 10]);
    const target = tensorOn('gpu', classIndices(4, 10, 2), [4]);
    const before = tf.memory().numTensors;
    const doubled = tf.tidy(() => tf.mul(losses.crossEntropy(logits, target), 2));
    expect(tf.memory().numTensors).toBe(before + 1);
    const single = losses.crossEntropy(logits, target);
    expect((await doubled.data())[0]).toBe(2 * (await single.data())[0]!);
    tf.dispose([logits, target, doubled, single]);
  });
});

describe.skipIf(!found)('binaryCrossEntropy and linear against their references', () => {
  it.each([
    { reduction: 'mean' as const, input: 'logits' as const, where: 'gpu' as const },
    { reduction: 'none' as const, input: 'logits' as const, where: 'cpu' as const },
    { reduction: 'sum' as const, input: 'probabilities' as const, where: 'gpu' as const },
  ])('binary $reduction of $input, tensors on the $where', async ({ reduction, input, where }) => {
    const shape = [6, 5];
    const x = input === 'logits' ? values(30, 11) : values(30, 11, 1).map((v) => 0.05 + 0.45 * (v + 1));
    const y = values(30, 12).map((v) => (v > 0 ? 1 : 0.25));
    const posWeight = Float32Array.from([1, 2, 0.5, 3, 1]);
    const logits = tensorOn(where, x, shape);
    const target = tensorOn(where, y, shape);
    const options = { reduction, input, posWeight: input === 'logits' ? posWeight : undefined };
    const adapterOptions = input === 'logits' ? { reduction, input, posWeight } : { reduction, input };
    const loss = losses.binaryCrossEntropy(logits, target, adapterOptions);
    const grad = tf.grad((v: TF.Tensor) => tf.sum(losses.binaryCrossEntropy(v, target, adapterOptions)))(logits);
    const reference = binaryCrossEntropyReference({ data: x, shape }, { data: y, shape },
      { ...(options.posWeight ? { posWeight } : {}), reduction, input, grad: true });
    const lossCheck = compareArrays((await loss.data()), typeof reference.loss === 'number' ? [reference.loss] : reference.loss,
      TOLERANCES.rowLoss);
    expect(lossCheck.ok, describeComparison(lossCheck)).toBe(true);
    const gradCheck = compareArrays((await grad.data()), reference.grad!, TOLERANCES.grad);
    expect(gradCheck.ok, describeComparison(gradCheck)).toBe(true);
    tf.dispose([logits, target, loss, grad]);
  });

  it.each([
    { reduction: 'mean' as const, bias: true, where: 'gpu' as const },
    { reduction: 'sum' as const, bias: false, where: 'cpu' as const },
    { reduction: 'none' as const, bias: true, where: 'gpu' as const },
  ])('linear $reduction (bias: $bias), tensors on the $where', async ({ reduction, bias, where }) => {
    const [n, d, v] = [12, 20, 37];
    const h = values(n * d, 21, 1);
    const w = values(v * d, 22, 1);
    const b = values(v, 23, 1);
    const y = classIndices(n, v, 24, 4);
    const hidden = tensorOn(where, h, [n, d]);
    const classifier = tensorOn(where, w, [v, d]);
    const biasTensor = bias ? tensorOn(where, b, [v]) : undefined;
    const target = tensorOn(where, y, [n]);
    const options = { reduction, labelSmoothing: 0.1, ...(biasTensor ? { bias: biasTensor } : {}) };
    const dyValues = reduction === 'none' ? values(n, 25).map((x) => 1 + x) : new Float32Array([1]);
    const dy = tensorOn(where, dyValues, reduction === 'none' ? [n] : []);
    const loss = losses.linear(hidden, classifier, target, options);
    const parameters = [hidden, classifier, ...(biasTensor ? [biasTensor] : [])];
    const grads = tf.grads((...args: TF.Tensor[]) => losses.linear(args[0]!, args[1]!, target,
      { ...options, ...(args[2] ? { bias: args[2] } : {}) }))(parameters, dy);
    const reference = linearCrossEntropyReference({ data: h, shape: [n, d] }, { data: w, shape: [v, d] }, { data: y, shape: [n] },
      { reduction, labelSmoothing: 0.1, ...(bias ? { bias: b } : {}), grad: true,
        ...(reduction === 'none' ? { gradOutput: dyValues } : {}) });
    const lossValues = (await loss.data()) as Float32Array;
    const problem = linearMismatch({ loss: reduction === 'none' ? lossValues : lossValues[0]!, grad: {
      hidden: (await grads[0]!.data()) as Float32Array, classifier: (await grads[1]!.data()) as Float32Array,
      ...(bias ? { bias: (await grads[2]!.data()) as Float32Array } : {}) } }, reference, d);
    expect(problem).toBeNull();
    tf.dispose([hidden, classifier, target, dy, loss, ...grads, ...(biasTensor ? [biasTensor] : [])]);
  });
});

describe.skipIf(!found)('in a training step', () => {
  it('optimizer.minimize and tf.variableGrads take the adapter\'s gradient: one SGD step as the reference\'s', async () => {
    const x = values(4 * 6, 31, 1);
    const wValues = values(6 * 5, 32, 1);
    const y = classIndices(4, 5, 33);
    const weights = tf.variable(tf.tensor2d(wValues, [6, 5]));
    const inputs = tf.tensor2d(x, [4, 6]);
    const target = tf.tensor1d(y, 'int32');
    const { value, grads } = tf.variableGrads(() => losses.crossEntropy(tf.matMul(inputs, weights), target) as TF.Scalar,
      [weights]);
    // d(loss)/dW = xᵀ · d(loss)/d(logits), in float64 from the reference's gradient.
    const logits = new Float32Array(await tf.matMul(inputs, weights).data());
    const reference = crossEntropyReference({ data: logits, shape: [4, 5] }, { data: y, shape: [4] }, { grad: true });
    const dW = new Float64Array(30);
    for (let i = 0; i < 6; i++) for (let c = 0; c < 5; c++) {
      for (let n = 0; n < 4; n++) dW[i * 5 + c]! += x[n * 6 + i]! * reference.grad![n * 5 + c]!;
    }
    expect(Math.abs((await value.data())[0]! - (reference.loss as number))).toBeLessThan(1e-5);
    const c = compareArrays((await grads[weights.name]!.data()), dW, TOLERANCES.grad);
    expect(c.ok, describeComparison(c)).toBe(true);
    const optimizer = tf.train.sgd(0.5);
    optimizer.minimize(() => losses.crossEntropy(tf.matMul(inputs, weights), target) as TF.Scalar);
    const stepped = compareArrays((await weights.data()), wValues.map((w, i) => w - 0.5 * dW[i]!), { atol: 1e-6, rtol: 1e-5 });
    expect(stepped.ok, describeComparison(stepped)).toBe(true);
    tf.dispose([value, ...Object.values(grads), weights, inputs, target]);
    optimizer.dispose();
  });

  it('a layers model compiled with lossFunction(): evaluate() gives the reference\'s loss, fit() trains', async () => {
    const [n, d, c] = [48, 12, 6];
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 16, inputShape: [d], activation: 'relu' }),
      tfl.layers.dense({ units: c })] });
    model.compile({ optimizer: tf.train.sgd(0.2), loss: losses.lossFunction({ labelSmoothing: 0.1 }) });
    const x = tf.tensor2d(values(n * d, 61, 1), [n, d]);
    const target = probabilities(n, c, 62);
    const y = tf.tensor2d(target, [n, c]);
    const logits = model.predict(x) as TF.Tensor;
    const reference = crossEntropyReference({ data: new Float32Array(await logits.data()), shape: [n, c] },
      { data: target, shape: [n, c] }, { labelSmoothing: 0.1 });
    const evaluated = model.evaluate(x, y) as TF.Scalar;
    expect(Math.abs((await evaluated.data())[0]! - (reference.loss as number))).toBeLessThan(1e-5);
    const history = await model.fit(x, y, { epochs: 4, batchSize: 16, verbose: 0, shuffle: false });
    const perEpoch = history.history.loss as number[];
    expect(perEpoch[3]).toBeLessThan(perEpoch[0]!);
    await losses.settled();
    tf.dispose([x, y, logits, evaluated]);
    model.dispose();
  });

  it('1,000 steps: tf.memory().numTensors and gpuMemory() flat, nothing reported', async () => {
    const [n, d, c] = [32, 16, 10];
    const w1 = tf.variable(tf.tensor2d(values(d * 24, 41, 0.3), [d, 24]));
    const w2 = tf.variable(tf.tensor2d(values(24 * c, 42, 0.3), [24, c]));
    const head = tf.variable(tf.tensor2d(values(c * 24, 43, 0.3), [c, 24]));
    const inputs = tensorOn('gpu', values(n * d, 44, 1), [n, d]);
    // Class indices on the GPU (their check read back after each call) and on the CPU (checked at once).
    const labels = tensorOn('gpu', classIndices(n, c, 45), [n]);
    const hostLabels = tensorOn('cpu', classIndices(n, c, 45), [n]);
    const soft = tensorOn('gpu', probabilities(n, c, 46), [n, c]);
    const optimizer = tf.train.sgd(0.05);
    const step = (i: number) => optimizer.minimize(() => {
      const hidden = tf.relu(tf.matMul(inputs, w1));
      // Each loss in turn: class indices, probabilities, the linear head.
      if (i % 3 === 0) return losses.crossEntropy(tf.matMul(hidden, w2), labels, { labelSmoothing: 0.1 }) as TF.Scalar;
      if (i % 3 === 1) return losses.crossEntropy(tf.matMul(hidden, w2), soft) as TF.Scalar;
      return losses.linear(hidden, head, hostLabels) as TF.Scalar;
    }, true)!;
    const first: number[] = [];
    for (let i = 0; i < 30; i++) {
      const cost = step(i);
      first.push((await cost.data())[0]!);
      cost.dispose();
    }
    const tensors = tf.memory().numTensors;
    const memory = losses.gpuMemory();
    let last = NaN;
    for (let i = 30; i < 1000; i++) {
      const cost = step(i);
      last = (await cost.data())[0]!;
      cost.dispose();
      if (i % 100 === 99) {
        expect(tf.memory().numTensors, `step ${i + 1}`).toBe(tensors);
        expect(losses.gpuMemory(), `step ${i + 1}`).toEqual(memory);
      }
    }
    await losses.settled();
    expect(last).toBeLessThan(first[0]!);
    tf.dispose([w1, w2, head, inputs, labels, hostLabels, soft]);
    optimizer.dispose();
  });
});

describe.skipIf(!found)('class indices out of range on the GPU', () => {
  it('are reported after the call: by settled(), onError and the next call', async () => {
    const reported: Error[] = [];
    const own = await TfjsCrossEntropy.create({ onError: (error) => reported.push(error) });
    try {
      const logits = tensorOn('gpu', values(30, 51), [6, 5]);
      const bad = tensorOn('gpu', Int32Array.from([0, 1, 7, 2, -3, 4]), [6]);
      const good = tensorOn('gpu', Int32Array.from([0, 1, 2, 3, 4, 0]), [6]);
      own.crossEntropy(logits, bad).dispose();
      await expect(own.settled()).rejects.toThrow(/target has 2 class indices out of bounds; the first is target\[2\]/);
      expect(reported).toHaveLength(1);
      own.crossEntropy(logits, bad).dispose();
      await new Promise((resolve) => setTimeout(resolve, 50));
      while (reported.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(() => own.crossEntropy(logits, good)).toThrow(/an earlier call failed on the GPU: target has 2 class indices/);
      const ok = own.crossEntropy(logits, good);
      await own.settled();
      expect(Number.isFinite((await ok.data())[0])).toBe(true);
      tf.dispose([logits, bad, good, ok]);
    } finally {
      own.destroy();
    }
  });

  it('a loop that never yields checks every call, and holds no more once they are read', async () => {
    const logits = tensorOn('gpu', values(30, 53), [6, 5]);
    const good = tensorOn('gpu', Int32Array.from([0, 1, 2, 3, 4, 0]), [6]);
    const burst = async () => {
      for (let i = 0; i < 50; i++) losses.crossEntropy(logits, good).dispose();
      // Each call's status is copied for reading: the copies wait for the event loop.
      const during = losses.gpuMemory();
      await losses.settled();
      return during;
    };
    await burst();
    const held = losses.gpuMemory();
    expect((await burst()).buffers).toBeGreaterThanOrEqual(held.buffers + 46);
    // Read, the copies' buffers are destroyed but for a few kept for the next calls.
    expect(losses.gpuMemory()).toEqual(held);
    tf.dispose([logits, good]);
  });

  it('are rejected at once when TF.js holds them on the CPU', () => {
    const logits = tensorOn('gpu', values(30, 52), [6, 5]);
    const bad = tensorOn('cpu', Int32Array.from([0, 1, 7, 2, 3, 4]), [6]);
    expect(() => losses.crossEntropy(logits, bad)).toThrow(/TfjsCrossEntropy.crossEntropy|target\[2\] = 7 is out of bounds/);
    tf.dispose([logits, bad]);
  });
});

describe.skipIf(!found)('errors name the argument, before any GPU work', () => {
  it.each([
    ['a host array', () => [new Float32Array(6), 'target'], /logits must be a tf\.Tensor, got Float32Array/],
    ['mismatched class-index shape', () => [tf.zeros([2, 3]), tf.tensor1d([0, 1, 2], 'int32')],
      /target\.shape \[3\] does not match logits\.shape \[2, 3\]: expected \[2\] \(class indices\)/],
    ['mismatched probability shape', () => [tf.zeros([2, 3]), tf.zeros([2, 4])],
      /target is a float32 tensor \[2, 4\], not of the logits' shape \[2, 3\]: class indices must be int32/],
    ['float32 class indices', () => [tf.zeros([2, 3]), tf.tensor1d([0, 1])], /class indices must be int32/],
    ['int32 logits', () => [tf.zeros([2, 3], 'int32'), tf.tensor1d([0, 1], 'int32')], /logits must be a float32 tensor, got int32 \[2, 3\]/],
    ['a disposed tensor', () => {
      const t = tf.zeros([2, 3]);
      t.dispose();
      return [t, tf.tensor1d([0, 1], 'int32')];
    }, /logits is a disposed tf\.Tensor/],
    ['a weight of the wrong length', () => [tf.zeros([2, 3]), tf.tensor1d([0, 1], 'int32'), { weight: tf.ones([4]) }],
      /options\.weight/],
    ['an option the adapter sets itself', () => [tf.zeros([2, 3]), tf.tensor1d([0, 1], 'int32'), { grad: true }],
      /option "grad" is not taken: TF\.js asks for the gradient/],
    ['an unknown option', () => [tf.zeros([2, 3]), tf.tensor1d([0, 1], 'int32'), { smoothing: 0.1 }],
      /unknown option "smoothing"/],
    ['label smoothing out of range', () => [tf.zeros([2, 3]), tf.tensor1d([0, 1], 'int32'), { labelSmoothing: 2 }],
      /labelSmoothing/],
  ] as const)('%s', (_name, make, message) => {
    const [logits, target, options] = (make as () => unknown[])();
    const tensors = tf.memory().numTensors;
    const memory = losses.gpuMemory();
    expect(() => losses.crossEntropy(logits as TF.Tensor, target as TF.Tensor, options as TfjsCrossEntropyOptions))
      .toThrow(message);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(losses.gpuMemory()).toEqual(memory);
    tf.dispose([logits, target, ...Object.values((options ?? {}) as object)].filter((t) => t instanceof tf.Tensor) as TF.Tensor[]);
  });

  it('a tensor of another backend, and a backend without a device', async () => {
    await tf.setBackend('cpu');
    const onCpu = tf.zeros([2, 3]);
    await expect(TfjsCrossEntropy.create()).rejects.toThrow(/TF\.js's backend is 'cpu', which has no GPUDevice/);
    expect(() => losses.crossEntropy(onCpu, onCpu)).toThrow(/TF\.js's backend is now 'cpu'; this TfjsCrossEntropy runs on 'webgpu'/);
    await tf.setBackend('webgpu');
    expect(() => losses.crossEntropy(onCpu, tf.tensor1d([0, 1], 'int32')))
      .toThrow(/logits lives on TF\.js's 'cpu' backend, but this TfjsCrossEntropy runs on 'webgpu'/);
    onCpu.dispose();
  });

  it('create: its own options only', async () => {
    await expect(TfjsCrossEntropy.create({ device: found } as never))
      .rejects.toThrow(/option "device" is not taken: the adapter runs on the device of TF\.js's WebGPU backend/);
    await expect(TfjsCrossEntropy.create({ poison: true } as never))
      .rejects.toThrow(/unknown option "poison" \(known: onError, poisonOutputs, subgroups\)/);
  });

  it('linear and binary: mismatched shapes', () => {
    expect(() => losses.linear(tf.zeros([4, 6]), tf.zeros([10, 5]), tf.zeros([4], 'int32')))
      .toThrow(/classifier\.shape must be \[V, 6\]/);
    expect(() => losses.binaryCrossEntropy(tf.zeros([4, 6]), tf.zeros([4, 5])))
      .toThrow(/target\.shape \[4, 5\] must equal logits\.shape \[4, 6\]/);
  });
});
