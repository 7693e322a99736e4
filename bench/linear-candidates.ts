/**
 * The linear suite's candidates (bench/linear.ts times them): ce.linearGpu, the matmul floor, the
 * materialised path, TF.js's step, and the GFLOPS pair, each prepared on its inputs on the GPU,
 * with what a call should return (float64) and, for a check after timing, what its outputs should
 * hold; ours and the materialised path also measure their peak GPU memory.
 */
import { BufferUsage, MapMode } from '../src/gpu/constants.js';
import type { Kernels } from '../src/gpu/pipelines.js';
import { logitsProduct } from '../src/gpu/matmul.js';
import { hiddenGradRuns } from '../src/gpu/encode-linear.js';
import { planLinear, type LinearPlan } from '../src/linear-plan.js';
import { describeLinearProblem } from '../src/linear-problem.js';
import { CrossEntropy, decodeHalf, type Dtype, type HalfDtype } from '../src/index.js';
import { linearProducts, prepareProducts, rowsPerBinding, type HiddenRuns } from './linear-matmul.js';
import {
  floorReference, makeLinearProblem, normwiseError, type DtypeInputs, type LinearBenchProblem, type LinearReference,
} from './linear-problem.js';
import { prepareTfjsLinear, prepareTfjsMatmul } from './peers.js';
import type { TimedCandidate } from './timing.js';

const { STORAGE, COPY_DST, COPY_SRC, MAP_READ } = BufferUsage;

/** A candidate of the linear suite: what a call returns is checked against `expected`. */
export interface LinearCandidate extends TimedCandidate {
  readonly expected: number;
  /** Floating-point operations a call counts (its matrix products). */
  readonly flops: number;
  /** One more call, its outputs read back: their worst normwise error against float64. */
  readonly check?: () => Promise<number>;
  /** One more call: the most GPU memory held at once (what is counted: docs/performance.md). */
  readonly peakBytes?: () => Promise<number>;
  /** The memoryBudget ours was given (absent: the default). */
  readonly memoryBudget?: number;
}

/** GPU buffers the suite makes, freed together. */
export class Owned {
  readonly #device: GPUDevice;
  readonly #buffers: GPUBuffer[] = [];
  readonly #others: { destroy(): void }[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  buffer(label: string, bytes: number, usage = STORAGE | COPY_DST | COPY_SRC): GPUBuffer {
    const buffer = this.#device.createBuffer({ label: `bench:${label}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    this.#buffers.push(buffer);
    return buffer;
  }

  /** A storage buffer holding `data` (16-bit values packed two per word, as the library reads them). */
  upload(label: string, data: Float32Array | Uint16Array | Int32Array): GPUBuffer {
    const buffer = this.buffer(label, data.byteLength);
    const words = data.byteLength % 4 === 0 ? data : Uint16Array.from({ length: data.length + 1 }, (_, i) => data[i] ?? 0);
    this.#device.queue.writeBuffer(buffer, 0, words.buffer, words.byteOffset, words.byteLength);
    return buffer;
  }

  keep<T extends { destroy(): void }>(thing: T): T {
    this.#others.push(thing);
    return thing;
  }

  destroy(): void {
    this.#others.splice(0).forEach((thing) => thing.destroy());
    this.#buffers.splice(0).forEach((buffer) => buffer.destroy());
  }
}

/** Reads `bytes` of `buffer` from `offset` back as f32 values. */
async function readBack(device: GPUDevice, buffer: GPUBuffer, bytes: number, offset = 0,
  encoder = device.createCommandEncoder()): Promise<Float32Array> {
  const staging = device.createBuffer({ label: 'bench:staging', size: bytes, usage: MAP_READ | COPY_DST });
  try {
    encoder.copyBufferToBuffer(buffer, offset, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MapMode.READ);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}

/** A gradient read back as values: f32, or 16-bit bit patterns decoded. */
function valuesOf(data: Float32Array | Uint16Array | undefined, dtype: Dtype): Float32Array {
  if (data === undefined) return new Float32Array(0);
  return data instanceof Uint16Array ? decodeHalf(data, dtype as HalfDtype) : data;
}

/** What every candidate of one shape and dtype reads: the inputs on the GPU. */
export interface LinearSetup {
  readonly device: GPUDevice;
  readonly kernels: Kernels;
  readonly problem: LinearBenchProblem;
  readonly inputs: DtypeInputs;
  readonly memoryBudget?: number;
  readonly hidden: GPUBuffer;
  readonly classifier: GPUBuffer;
  readonly bias: GPUBuffer;
  readonly targets: GPUBuffer;
}

/** ce.linearGpu with all three gradients, the loss read back; its own instance, so its peak is its own. */
export async function oursLinear(setup: LinearSetup, owned: Owned, flops: number, expected: number,
  reference: LinearReference): Promise<LinearCandidate> {
  const { device, problem: { n, d, v }, inputs: { dtype } } = setup;
  const ce = owned.keep(await CrossEntropy.create({ device }));
  const call = () => ce.linearGpu({ data: setup.hidden, shape: [n, d], dtype }, { data: setup.classifier, shape: [v, d], dtype },
    { data: setup.targets, shape: [n] }, { bias: setup.bias, grad: true, memoryBudget: setup.memoryBudget });
  const run = async () => {
    const result = await call();
    try {
      return (await result.readLoss()).loss as number;
    } finally {
      result.destroy();
    }
  };
  return {
    name: 'ours-linear', dtype, run, expected, flops,
    ...(setup.memoryBudget === undefined ? {} : { memoryBudget: setup.memoryBudget }),
    check: async () => {
      const result = await call();
      try {
        const { grad } = await result.read();
        return Math.max(normwiseError(valuesOf(grad?.hidden, dtype), reference.hidden),
          normwiseError(valuesOf(grad?.classifier, dtype), reference.classifier), normwiseError(grad?.bias ?? [], reference.bias));
      } finally {
        result.destroy();
      }
    },
    peakBytes: async () => {
      ce.gpuMemoryPeak();
      await run();
      return ce.gpuMemoryPeak().bytes;
    },
  };
}

/** Ours' plan at this shape: rows per chunk (the memory budget, one binding), vocabulary slices. */
function oursPlan(setup: LinearSetup): LinearPlan {
  const { n, d, v } = setup.problem;
  const described = describeLinearProblem({ data: new Float32Array(n * d), shape: [n, d] },
    { data: new Float32Array(v * d), shape: [v, d] }, { data: new Int32Array(n), shape: [n] },
    { bias: setup.problem.bias, grad: true }, { floatArrays: [Float32Array], gpuBuffers: false });
  return planLinear(described, setup.device.limits, setup.memoryBudget);
}

/**
 * How ours sums dH over the vocabulary for a chunk of `rows` rows (hiddenGradRuns of its plan), and
 * the partials buffer and column of ones that chunks of `chunkRows` rows need. One vocabulary slice
 * only: the suite's classifiers fit one binding.
 */
function hiddenSplit(setup: LinearSetup, owned: Owned, chunkRows: number, label: string) {
  const { problem: { n, d, v }, device } = setup;
  const plan = oursPlan(setup);
  if (plan.slices.length !== 1) throw new Error(`the benchmark's products take one vocabulary slice; ours has ${plan.slices.length}`);
  const hiddenRuns: HiddenRuns = (rows) => hiddenGradRuns(plan, rows, d, device.limits)[0] ?? null;
  const sizes = [...new Set([Math.min(chunkRows, n), n % chunkRows || chunkRows])];
  const splitsOf = (rows: number) => Math.ceil(v / (hiddenRuns(rows) ?? v));
  const partialBytes = Math.max(...sizes.map((rows) => (hiddenRuns(rows) === null ? 0 : splitsOf(rows) * rows * d * 4)));
  const ones = new Float32Array(Math.max(n, ...sizes.map(splitsOf))).fill(1);
  return {
    hiddenRuns, bytes: partialBytes + ones.byteLength,
    buffers: { ones: owned.upload(`${label}-ones`, ones), partials: owned.buffer(`${label}-partials`, partialBytes) },
  };
}

/**
 * The matmul floor: logits, dH and dW by our kernels and nothing else. Logits [N, V] whole where
 * they fit one binding; else chunks of rows as ours cuts them, each chunk's dW accumulated. A call
 * reads dW[0] back.
 */
export async function matmulFloor(setup: LinearSetup, owned: Owned, flops: number): Promise<LinearCandidate> {
  const { device, problem, inputs } = setup;
  const { n, d, v } = problem;
  const whole = n * v * 4 <= device.limits.maxStorageBufferBindingSize;
  const chunkRows = whole ? n : oursPlan(setup).chunkRows;
  const split = hiddenSplit(setup, owned, chunkRows, 'floor');
  const gradHidden = owned.buffer('floor-dh', n * d * 4);
  const gradClassifier = owned.buffer('floor-dw', v * d * 4);
  const chunks = linearProducts({ n, v, d }, chunkRows, whole ? 'full' : 'chunk', { hidden: setup.hidden,
    classifier: setup.classifier, bias: setup.bias, logits: owned.buffer('floor-logits', chunkRows * v * 4), gradHidden,
    gradClassifier, ...split.buffers }, inputs.dtype, split.hiddenRuns);
  const products = owned.keep(await prepareProducts(device, setup.kernels, chunks.flatMap((c) => [c.logits, ...c.grads])));
  const step = () => {
    const encoder = device.createCommandEncoder({ label: 'bench:matmul-floor' });
    products.encode(encoder);
    return encoder;
  };
  const expected = floorReference(problem, inputs);
  return {
    name: 'matmul-floor', dtype: inputs.dtype, flops, expected: expected.classifier[0]!,
    run: async () => (await readBack(device, gradClassifier, 4, 0, step()))[0]!,
    check: async () => {
      await readBack(device, gradClassifier, 4, 0, step());
      const [dh, dw] = [await readBack(device, gradHidden, n * d * 4), await readBack(device, gradClassifier, v * d * 4)];
      return Math.max(normwiseError(dh, expected.hidden), normwiseError(dw, expected.classifier));
    },
  };
}

/**
 * Materialised logits: our matmul writes all N × V logits (with the bias), ce.forwardGpu computes
 * the loss and writes G over them (gradInPlace), then our matmul makes dH, dW and db (as Gᵀ · 1,
 * as ours does); one command buffer, the loss read back.
 */
export async function materialised(setup: LinearSetup, owned: Owned, flops: number, expected: number,
  reference: LinearReference): Promise<LinearCandidate> {
  const { device, problem: { n, d, v }, inputs: { dtype } } = setup;
  const ce = owned.keep(await CrossEntropy.create({ device }));
  const chunkRows = Math.min(n, rowsPerBinding(device.limits, v));
  const split = hiddenSplit(setup, owned, chunkRows, 'materialised');
  const bytes = { logits: n * v * 4, gradHidden: n * d * 4, gradClassifier: v * d * 4, gradBias: v * 4, split: split.bytes };
  const logits = owned.buffer('materialised-logits', bytes.logits);
  const gradHidden = owned.buffer('materialised-dh', bytes.gradHidden);
  const gradClassifier = owned.buffer('materialised-dw', bytes.gradClassifier);
  const gradBias = owned.buffer('materialised-db', bytes.gradBias);
  const chunks = linearProducts({ n, v, d }, chunkRows, 'full', { hidden: setup.hidden, classifier: setup.classifier,
    bias: setup.bias, logits, gradHidden, gradClassifier, gradBias, ...split.buffers }, dtype, split.hiddenRuns);
  const forward = owned.keep(await prepareProducts(device, setup.kernels, chunks.map((c) => c.logits)));
  const backward = owned.keep(await prepareProducts(device, setup.kernels, chunks.flatMap((c) => c.grads)));
  const benchBytes = Object.values(bytes).reduce((a, b) => a + b, 0) + forward.uniformBytes + backward.uniformBytes;
  const step = async () => {
    const encoder = device.createCommandEncoder({ label: 'bench:materialised' });
    forward.encode(encoder);
    const result = await ce.forwardGpu({ data: logits, shape: [n, v] }, { data: setup.targets, shape: [n] },
      { grad: true, gradInPlace: true, encoder });
    backward.encode(encoder);
    device.queue.submit([encoder.finish()]);
    return result;
  };
  const run = async () => {
    const result = await step();
    try {
      return (await result.readLoss()).loss as number;
    } finally {
      result.destroy();
    }
  };
  return {
    name: 'ours-materialised', dtype, run, expected, flops,
    check: async () => {
      await run();
      const [dh, dw, db] = [await readBack(device, gradHidden, bytes.gradHidden),
        await readBack(device, gradClassifier, bytes.gradClassifier), await readBack(device, gradBias, bytes.gradBias)];
      return Math.max(normwiseError(dh, reference.hidden), normwiseError(dw, reference.classifier), normwiseError(db, reference.bias));
    },
    peakBytes: async () => {
      ce.gpuMemoryPeak();
      await run();
      return ce.gpuMemoryPeak().bytes + benchBytes;
    },
  };
}

/**
 * The row kernels alone: ce.forwardGpu's loss and d(loss)/d(logits) over the logits our matmul made
 * once, before timing (the gradient in a buffer of its own, so every call reads the same logits):
 * what ours adds to the matmul floor.
 */
export async function rowsAlone(setup: LinearSetup, owned: Owned, expected: number): Promise<LinearCandidate> {
  const { device, problem: { n, d, v }, inputs: { dtype } } = setup;
  const ce = owned.keep(await CrossEntropy.create({ device }));
  const logits = owned.buffer('rows-logits', n * v * 4);
  const chunks = linearProducts({ n, v, d }, Math.min(n, rowsPerBinding(device.limits, v)), 'full', { hidden: setup.hidden,
    classifier: setup.classifier, bias: setup.bias, logits, gradHidden: logits, gradClassifier: logits }, dtype, () => null);
  const products = await prepareProducts(device, setup.kernels, chunks.map((c) => c.logits));
  try {
    const encoder = device.createCommandEncoder({ label: 'bench:rows-logits' });
    products.encode(encoder);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  } finally {
    products.destroy();
  }
  return {
    name: 'ours-rows', dtype, expected, flops: 0,
    run: async () => {
      const result = await ce.forwardGpu({ data: logits, shape: [n, v] }, { data: setup.targets, shape: [n] }, { grad: true });
      try {
        return (await result.readLoss()).loss as number;
      } finally {
        result.destroy();
      }
    },
  };
}

/**
 * TF.js's step (f32 only, where its N × V logits fit one binding: it binds whole tensors); its
 * gradients read back to check them.
 */
export function tfjsLinear(setup: LinearSetup, owned: Owned, flops: number, reference: LinearReference): LinearCandidate {
  const tfjs = prepareTfjsLinear(setup.problem);
  owned.keep({ destroy: tfjs.dispose });
  return {
    name: 'tfjs-linear', dtype: 'float32', run: tfjs.step, expected: reference.loss, flops,
    check: async () => {
      const g = await tfjs.grads();
      return Math.max(normwiseError(g.hidden, reference.hidden), normwiseError(g.classifier, reference.classifier),
        normwiseError(g.bias, reference.bias));
    },
  };
}

/** Our logits product [m, k] · [p, k]ᵀ and tf.matMul on the same inputs: a call reads one element back. */
export async function matmulPair(device: GPUDevice, kernels: Kernels, owned: Owned,
  [m, k, p]: readonly [number, number, number]): Promise<LinearCandidate[]> {
  const problem = makeLinearProblem(m, k, p);
  const a = owned.upload('matmul-a', problem.hidden);
  const b = owned.upload('matmul-b', problem.classifier);
  const out = owned.buffer('matmul-out', m * p * 4);
  const products = owned.keep(await prepareProducts(device, kernels,
    [{ problem: logitsProduct({ n: m, v: p, d: k }, false), buffers: { a, b, out } }]));
  const expected = new Float64Array(m * p);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < p; j++) {
      let sum = 0;
      for (let kk = 0; kk < k; kk++) sum += problem.hidden[i * k + kk]! * problem.classifier[j * k + kk]!;
      expected[i * p + j] = sum;
    }
  }
  const step = () => {
    const encoder = device.createCommandEncoder({ label: 'bench:matmul' });
    products.encode(encoder);
    return encoder;
  };
  const tfjs = prepareTfjsMatmul(problem.hidden, problem.classifier, m, k, p);
  owned.keep({ destroy: tfjs.dispose });
  const flops = 2 * m * k * p;
  return [
    { name: 'ours-matmul', dtype: 'float32', flops, expected: expected[0]!,
      run: async () => (await readBack(device, out, 4, 0, step()))[0]!,
      check: async () => {
        await readBack(device, out, 4, 0, step());
        return normwiseError(await readBack(device, out, m * p * 4), expected);
      } },
    { name: 'tfjs-matmul', dtype: 'float32', flops, expected: expected[0]!, run: tfjs.run,
      check: async () => normwiseError(await tfjs.full(), expected) },
  ];
}
