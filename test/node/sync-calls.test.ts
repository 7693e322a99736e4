/**
 * The synchronous calls behind the TF.js adapter (syncCalls: forward, binary, linear encoded and
 * submitted without waiting): bit for bit what the asynchronous methods give, on host and GPU
 * inputs; a prepared call rebinding new input buffers instead of making new ones; WebGPU's errors
 * and class indices out of range on the GPU reported by `reported`; checks thrown at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, type CrossEntropyOptions } from '../../src/index.js';
import { syncCalls, type SyncCalls } from '../../src/cross-entropy.js';
import { BufferUsage, MapMode } from '../../src/gpu/constants.js';
import { isGpuBuffer } from '../../src/tensor-data.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return (state / 2 ** 31) * 6 - 3;
  });
}

function gpuBuffer(data: Float32Array | Int32Array, label = 'input'): GPUBuffer {
  const buffer = device!.createBuffer({ label, size: Math.max(4, data.byteLength),
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  device!.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

async function read(buffer: GPUBuffer, bytes = buffer.size): Promise<Float32Array> {
  const staging = device!.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const encoder = device!.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
  device!.queue.submit([encoder.finish()]);
  await staging.mapAsync(MapMode.READ);
  const copy = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return copy;
}

describe.skipIf(!device)('synchronous calls', () => {
  let ce: CrossEntropy;
  let sync: SyncCalls;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
    sync = syncCalls(ce);
  });
  afterAll(() => ce?.destroy());

  const OPTIONS: { name: string; options: CrossEntropyOptions }[] = [
    { name: 'mean', options: {} },
    { name: 'sum, smoothing, ignoreIndex, weight', options: { reduction: 'sum', labelSmoothing: 0.1, ignoreIndex: 3,
      weight: values(40, 9).map((v) => 2 + v / 2) } },
    { name: "'none', z-loss", options: { reduction: 'none', zLoss: 1e-3 } },
  ];

  it.each(OPTIONS)('forward, $name: the loss and gradient of the asynchronous call, bit for bit', async ({ options }) => {
    const shape = [24, 40];
    const logits = values(24 * 40, 1);
    const target = Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 40);
    const expected = await ce.forward({ data: logits, shape }, { data: target, shape: [24] }, { ...options, grad: true });
    for (const where of ['host', 'gpu'] as const) {
      const x = where === 'host' ? logits : gpuBuffer(logits);
      const y = where === 'host' ? target : gpuBuffer(target);
      const run = sync.forward({ data: x, shape }, { data: y, shape: [24] }, { ...options, grad: true });
      const rows = options.reduction === 'none' ? 24 : 1;
      expect(run.loss.size).toBe(rows * 4);
      const [loss, grad] = await Promise.all([read(run.loss), read(run.grad!, logits.byteLength)]);
      await run.reported;
      run.release();
      expect(options.reduction === 'none' ? loss : loss[0], where).toEqual(expected.loss);
      expect(grad, where).toEqual(expected.grad);
      if (isGpuBuffer(x)) x.destroy();
      if (isGpuBuffer(y)) y.destroy();
    }
  });

  it('a prepared call binds the next call\'s buffers: no new buffers, each call its own inputs', async () => {
    const shape = [16, 33];
    const first = values(16 * 33, 2);
    const second = values(16 * 33, 3);
    const target = gpuBuffer(Int32Array.from({ length: 16 }, (_, i) => i % 33));
    const expected = await Promise.all([first, second].map((logits) =>
      ce.forward({ data: logits, shape }, { data: new Int32Array(16).map((_, i) => i % 33), shape: [16] })));
    const buffers = [gpuBuffer(first), gpuBuffer(second)];
    let held = ce.gpuMemory();
    for (let round = 0; round < 3; round++) {
      for (const [i, buffer] of buffers.entries()) {
        const run = sync.forward({ data: buffer, shape }, { data: target, shape: [16] }, {});
        const [loss] = await read(run.loss);
        await run.reported;
        run.release();
        expect(loss, `round ${round}, buffer ${i}`).toBe(expected[i]!.loss);
        if (round === 0 && i === 0) held = ce.gpuMemory();
        else expect(ce.gpuMemory()).toEqual(held);
      }
    }
    [...buffers, target].forEach((b) => b.destroy());
  });

  it('binary and linear: what binary() and linear() give, bit for bit', async () => {
    const x = values(30, 4);
    const y = values(30, 5).map((v) => (v > 0 ? 1 : 0));
    const binary = await ce.binary({ data: x, shape: [5, 6] }, { data: y, shape: [5, 6] }, { grad: true });
    const run = sync.binary({ data: gpuBuffer(x), shape: [5, 6] }, { data: y, shape: [5, 6] }, { grad: true, gradInPlace: true });
    expect((await read(run.loss))[0]).toBe(binary.loss);
    expect(await read(run.grad!)).toEqual(binary.grad);
    await run.reported;
    run.release();

    const [n, d, v] = [10, 12, 21];
    const hidden = values(n * d, 6).map((h) => h / 3);
    const classifier = values(v * d, 7).map((w) => w / 3);
    const bias = values(v, 8);
    const target = Int32Array.from({ length: n }, (_, i) => (i * 5) % v);
    const linear = await ce.linear({ data: hidden, shape: [n, d] }, { data: classifier, shape: [v, d] }, { data: target, shape: [n] },
      { bias, grad: true, labelSmoothing: 0.1 });
    const head = sync.linear({ data: gpuBuffer(hidden), shape: [n, d] }, { data: gpuBuffer(classifier), shape: [v, d] },
      { data: gpuBuffer(target), shape: [n] }, { bias: gpuBuffer(bias), grad: true, labelSmoothing: 0.1 });
    const [loss, dh, dw, db] = await Promise.all([read(head.loss), read(head.grad.hidden!), read(head.grad.classifier!),
      read(head.grad.bias!)]);
    await head.reported;
    head.release();
    expect(loss[0]).toBe(linear.loss);
    expect(dh).toEqual(linear.grad!.hidden);
    expect(dw).toEqual(linear.grad!.classifier);
    expect(db).toEqual(linear.grad!.bias);
  });

  it('reports class indices out of range in a GPUBuffer, and WebGPU errors, through `reported`', async () => {
    const logits = gpuBuffer(values(20, 10));
    const run = sync.forward({ data: logits, shape: [4, 5] }, { data: gpuBuffer(Int32Array.from([0, 9, 1, -2])), shape: [4] }, {});
    run.release();
    await expect(run.reported).rejects.toThrow(/target has 2 class indices out of bounds; the first is target\[1\]/);
    const gone = gpuBuffer(values(20, 11), 'gone');
    gone.destroy();
    const failed = sync.forward({ data: gone, shape: [4, 5] }, { data: Int32Array.from([0, 1, 2, 3]), shape: [4] }, {});
    failed.release();
    await expect(failed.reported).rejects.toThrow(/WebGPU validation error on Buffer "gone" \(the caller's logits\.data\)/);
    logits.destroy();
  });

  it('throws at once what the call would reject with, holding nothing more', () => {
    const held = ce.gpuMemory();
    const logits = { data: values(6, 12), shape: [2, 3] };
    expect(() => sync.forward(logits, { data: Int32Array.from([0, 3]), shape: [2] }, {})).toThrow(/target\[1\] = 3 is out of bounds/);
    expect(() => sync.checkForward(logits, { data: Int32Array.from([0]), shape: [1] }, {})).toThrow(/does not match logits\.shape/);
    expect(() => sync.checkForward(logits, { data: Int32Array.from([0, 1]), shape: [2] }, { encoder: undefined } as never))
      .toThrow(/unknown option "encoder"/);
    expect(ce.gpuMemory()).toEqual(held);
  });
});
