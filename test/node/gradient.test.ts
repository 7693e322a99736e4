/**
 * The gradient and the GPU-resident path: exact zeros for ignored rows, finite gradients for -inf
 * target logits, writing in place, upstream gradients, encoding into the caller's encoder, GPU-side
 * validation when reading, and who owns which buffer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference } from '../../src/index.js';
import { buildCase } from '../../problems/cases.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { gpuBuffer, onGpu } from '../helpers/gpu-inputs.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();
const MAP_READ = 0x1;
const COPY_DST = 0x8;

async function readBuffer(d: GPUDevice, source: GPUBuffer, bytes: number): Promise<Float32Array> {
  const staging = d.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
  const encoder = d.createCommandEncoder();
  encoder.copyBufferToBuffer(source, 0, staging, 0, bytes);
  d.queue.submit([encoder.finish()]);
  await staging.mapAsync(MAP_READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

describe.skipIf(!device)('gradient', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it('is exactly 0 for ignored rows, even when all their logits are -inf', async () => {
    const logits = { data: new Float32Array([-Infinity, -Infinity, -Infinity, 1, 2, 3]), shape: [2, 3] };
    const target = { data: new Int32Array([-100, 2]), shape: [2] };
    const { loss, grad } = await ce.forward(logits, target, { grad: true, labelSmoothing: 0.1 });
    expect(Array.from(grad!.slice(0, 3))).toEqual([0, 0, 0]);
    expect(Object.is(grad![0], -0)).toBe(false);
    expectMatchesReference({ loss, grad }, crossEntropyReference(logits, target, { grad: true, labelSmoothing: 0.1 }));
  });

  it('is finite where the target logit is -inf (the loss is +inf)', async () => {
    const logits = { data: new Float32Array([-Infinity, 0, 1]), shape: [1, 3] };
    const target = { data: new Int32Array([0]), shape: [1] };
    const { loss, grad } = await ce.forward(logits, target, { grad: true });
    expect(loss).toBe(Infinity);
    expect(Array.from(grad!).every(Number.isFinite)).toBe(true);
    expectMatchesReference({ loss, grad }, crossEntropyReference(logits, target, { grad: true }));
  });

  it("matches -onehot + softmax for the seeds' 3-class example", async () => {
    const logits = { data: new Float32Array([Math.log(0.7), Math.log(0.2), Math.log(0.1)]), shape: [3] };
    const { grad } = await ce.forward(logits, { data: new Int32Array([0]), shape: [] }, { grad: true });
    [0.7 - 1, 0.2, 0.1].forEach((g, c) => expect(grad![c]).toBeCloseTo(g, 6));
  });

  // Rows of 65 and 2,051 classes start off vec4 boundaries: the kernels read them through vec4s, a
  // vec4 shared by two rows (or two chunks of one) written by one invocation. The targets sit in
  // those shared vec4s: the first classes of rows 1-3 share one with the previous row, the last
  // classes and the chunk boundaries (684, 1,368 for 2,051 classes in 3 chunks) one with what follows.
  it.each([
    { shape: [4, 65], targets: [0, 0, 0, 0] },
    { shape: [4, 65], targets: [64, 64, 63, 1] },
    { shape: [4, 2051], targets: [683, 684, 1368, 2050] },
    { shape: [4, 2051], targets: [0, 1, 1367, 1369] },
  ])('rows not a multiple of 4 long: targets $targets of $shape in shared vec4s', async ({ shape, targets }) => {
    const [rows, classes] = shape as [number, number];
    const data = Float32Array.from({ length: rows * classes }, (_, i) => Math.sin(i * 0.37) * 4);
    const logits = { data, shape };
    const target = { data: Int32Array.from(targets), shape: [rows] };
    const weight = Float32Array.from({ length: classes }, (_, c) => 0.5 + (c % 7) / 4);
    const base = { grad: true, reduction: 'mean' as const, labelSmoothing: 0, input: 'logits' as const };
    for (const options of [base, { ...base, labelSmoothing: 0.2, weight }, { ...base, reduction: 'none' as const }]) {
      const reference = crossEntropyReference(logits, target, options);
      expectMatchesReference(await ce.forward(logits, target, options), reference, JSON.stringify({ shape, targets }));
      const resident = onGpu(device!, { logits, target, options });
      try {
        const onDevice = await ce.forward(resident.logits, resident.target, resident.options);
        expectMatchesReference(onDevice, reference, `GPUBuffer inputs ${JSON.stringify({ shape, targets })}`);
      } finally {
        resident.destroy();
      }
    }
  });

  it('writes in place over a GPUBuffer of logits when asked, leaving no second N×C buffer', async () => {
    const built = buildCase({ shape: [40, 300], targetKind: 'classIndex', reduction: 'mean', weighted: true,
      labelSmoothing: 0.1, ignoredFraction: 0.1, values: 'normal', seed: 7, grad: true });
    const gpu = onGpu(device!, built);
    try {
      const run = await ce.forwardGpu(gpu.logits, gpu.target, { ...gpu.options, gradInPlace: true });
      expect(run.grad).toBe(gpu.logits.data);
      const result = await run.read();
      run.destroy();
      expectMatchesReference(result, crossEntropyReference(built.logits, built.target, built.options));
      const overwritten = await readBuffer(device!, gpu.logits.data, built.logits.data.byteLength);
      expect(Array.from(overwritten)).toEqual(Array.from(result.grad!));
    } finally {
      gpu.destroy();
    }
  });

  it("takes an upstream gradient for reduction 'none'", async () => {
    const built = buildCase({ shape: [3, 7, 5], targetKind: 'classIndex', reduction: 'none', weighted: true,
      labelSmoothing: 0.2, ignoredFraction: 0.2, values: 'normal', seed: 8, grad: true });
    expect(built.options.gradOutput).toBeDefined();
    expectMatchesReference(await ce.forward(built.logits, built.target, built.options),
      crossEntropyReference(built.logits, built.target, built.options));
  });

  it("encodes into the caller's encoder and chains with the caller's GPU work", async () => {
    const built = buildCase({ shape: [64, 100], targetKind: 'classIndex', reduction: 'sum', weighted: false,
      labelSmoothing: 0, ignoredFraction: 0, values: 'normal', seed: 9, grad: true });
    const gpu = onGpu(device!, built);
    const mine = device!.createBuffer({ size: 4, usage: 0x80 | COPY_DST | 0x4 });
    try {
      const encoder = device!.createCommandEncoder();
      const run = await ce.forwardGpu(gpu.logits, gpu.target, { ...gpu.options, encoder });
      // The caller's own work, after ours in the same encoder: copy the loss into its buffer.
      encoder.copyBufferToBuffer(run.loss, 0, mine, 0, 4);
      device!.queue.submit([encoder.finish()]);
      const copied = (await readBuffer(device!, mine, 4))[0]!;
      const reference = crossEntropyReference(built.logits, built.target, built.options);
      expect(Math.abs(copied - (reference.loss as number)) / (reference.loss as number)).toBeLessThan(1e-5);
      await run.check();
      run.destroy();
      // Destroying the result never destroys the caller's buffers.
      expect(Array.from(await readBuffer(device!, gpu.logits.data, 16))).toEqual(Array.from(built.logits.data.slice(0, 4)));
    } finally {
      gpu.destroy();
      mine.destroy();
    }
  });

  it("rejects a read before the caller's encoder is submitted, and reads right once it is", async () => {
    const built = buildCase({ shape: [2, 3], targetKind: 'classIndex', reduction: 'mean', weighted: false,
      labelSmoothing: 0, ignoredFraction: 0, values: 'normal', seed: 11, grad: true });
    const gpu = onGpu(device!, built);
    try {
      const encoder = device!.createCommandEncoder();
      const run = await ce.forwardGpu(gpu.logits, gpu.target, { ...gpu.options, encoder });
      const notRun = /read before its work ran: submit the command encoder given as options\.encoder/;
      await expect(run.read()).rejects.toThrow(notRun);
      await expect(run.readLoss()).rejects.toThrow(notRun);
      await expect(run.check()).rejects.toThrow(notRun);
      device!.queue.submit([encoder.finish()]);
      expectMatchesReference(await run.read(), crossEntropyReference(built.logits, built.target, built.options));
      run.destroy();
    } finally {
      gpu.destroy();
    }
  });

  it('validates GPU-resident targets when the result is read or checked', async () => {
    const targets = gpuBuffer(device!, new Int32Array([0, 1, 5, 2]));
    try {
      const logits = { data: new Float32Array(12), shape: [4, 3] };
      const run = await ce.forwardGpu(logits, { data: targets, shape: [4] }, { grad: true });
      await expect(run.check()).rejects.toThrow(/target has 1 class index out of bounds; the first is target\[2\] = 5/);
      await expect(run.read()).rejects.toThrow(RangeError);
      run.destroy();
    } finally {
      targets.destroy();
    }
  });

  // forwardGpu copies the status and the loss for the host with its computation: the first read
  // maps that copy, any later one (or a first one that also wants the gradient) copies anew.
  it('reads a GPU-resident result in any order, each read the same as the reference', async () => {
    const built = buildCase({ shape: [37, 50], targetKind: 'classIndex', reduction: 'none', weighted: true,
      labelSmoothing: 0.1, ignoredFraction: 0.2, values: 'normal', seed: 11, grad: true });
    const { gradOutput: _gradOutput, ...options } = built.options;
    const reference = crossEntropyReference(built.logits, built.target, options);
    const { grad: _grad, ...lossOnly } = reference;
    const orders = [['readLoss', 'read', 'readLoss', 'check'], ['check', 'read', 'readLoss'], ['read', 'readLoss']];
    for (const order of orders) {
      const run = await ce.forwardGpu(built.logits, built.target, options);
      try {
        for (const step of order) {
          if (step === 'check') {
            await run.check();
          } else if (step === 'read') {
            const result = await run.read();
            expect(result.grad).toHaveLength(37 * 50);
            expectMatchesReference(result, reference, order.join(', '));
          } else {
            const result = await run.readLoss();
            expect(result.grad).toBeUndefined();
            expectMatchesReference(result, lossOnly, order.join(', '));
          }
        }
      } finally {
        run.destroy();
      }
    }
  });

  // Label smoothing with one class holding nearly all the weight: that class's p S and its smoothing
  // term (eps / C) w nearly cancel while p is within 3e-6 of 1, so only 1 - p from the row's excess
  // keeps the digits (p itself rounds them away). Contiguous rows a multiple of 4 long (vec4 lanes
  // of one row), other lengths, and a K-dim layout (lanes of four rows).
  it('keeps the digits of a dominant class cancelled by label smoothing', async () => {
    for (const [shape, inner] of [[[6, 4], 1], [[6, 5], 1], [[6, 68], 1], [[3, 4, 4], 4]] as const) {
      const classes = shape[1];
      const rows = shape[0] * inner;
      const weight = new Float32Array(classes).fill(1);
      weight[0] = 1e6;
      const logits = new Float32Array(rows * classes);
      // Class 0's logit 12 + row / 4 above the others: 1 - p from 2e-6 down.
      for (let row = 0; row < rows; row++) {
        const n = Math.floor(row / inner);
        const s = row % inner;
        logits[(n * classes) * inner + s] = 12 + row / 4;
      }
      const input = { data: logits, shape: [...shape] };
      const target = { data: new Int32Array(rows).fill(1), shape: inner === 1 ? [shape[0]] : [shape[0], shape[2]] };
      const options = { grad: true, weight, labelSmoothing: 0.99, reduction: 'sum' } as const;
      const gpu = await ce.forward(input, target, options);
      expectMatchesReference(gpu, crossEntropyReference(input, target, options), `[${shape}]`);
    }
  });

  it('gives bit-identical results on reruns', async () => {
    const built = buildCase({ shape: [300, 3000], targetKind: 'classIndex', reduction: 'mean', weighted: true,
      labelSmoothing: 0.1, ignoredFraction: 0.1, values: 'pm88', seed: 10, grad: true });
    const first = await ce.forward(built.logits, built.target, built.options);
    for (let i = 0; i < 3; i++) {
      const again = await ce.forward(built.logits, built.target, built.options);
      expect(Object.is(again.loss, first.loss)).toBe(true);
      expect(Buffer.from(again.grad!.buffer).equals(Buffer.from(first.grad!.buffer))).toBe(true);
    }
  });
});
