/**
 * Size is no limit: logits over one storage binding are processed in pieces of whole rows; logits
 * over one buffer, from a host array, are streamed through one bounded buffer. Both give the float64
 * reference's loss and bit-identical reruns. Runs on a device with WebGPU's default limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CrossEntropy, crossEntropyReference, encodeHalf, type ForwardResult, type HalfDtype,
} from '../../src/index.js';
import { describeProblem } from '../../src/options.js';
import { planWork } from '../../src/plan.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { requireDefaultLimitsDevice } from '../helpers/webgpu-node.js';

const device = await requireDefaultLimitsDevice();
const MiB = 1024 * 1024;
const GPU_DATA = { floatArrays: [Float32Array], gpuBuffers: true };

/** Deterministic logits without a slow generator: a few hundred MB in well under a second. */
function logitsOf(rows: number, classes: number): Float32Array {
  const data = new Float32Array(rows * classes);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 4096) / 512 - 4;
  return data;
}

/** The same logits as 16-bit bit patterns. */
function halfLogitsOf(rows: number, classes: number, dtype: HalfDtype): Uint16Array {
  return encodeHalf(logitsOf(rows, classes), dtype);
}

/** A 16-bit tensor's words in a GPUBuffer: a tensor of odd length leaves the last word half used. */
function halfBuffer(bits: Uint16Array): GPUBuffer {
  const buffer = device!.createBuffer({ size: Math.ceil(bits.byteLength / 4) * 4, usage: 0x80 | 0x8 | 0x4,
    mappedAtCreation: true });
  new Uint16Array(buffer.getMappedRange()).set(bits);
  buffer.unmap();
  return buffer;
}

/** A rerun's reduced loss and gradient, bit for bit the first run's. */
function expectSameBits(again: ForwardResult<'mean', true, 'float32' | HalfDtype>,
  first: ForwardResult<'mean', true, 'float32' | HalfDtype>): void {
  expect(Object.is(again.loss, first.loss)).toBe(true);
  expect(Buffer.from(again.grad.buffer).equals(Buffer.from(first.grad.buffer))).toBe(true);
}

describe.skipIf(!device)('tensors over the device limits', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device! });
  });
  afterAll(() => {
    ce?.destroy();
    device?.destroy();
  });

  it('has the default limits this test relies on', () => {
    expect(device!.limits.maxStorageBufferBindingSize).toBe(128 * MiB);
    expect(device!.limits.maxBufferSize).toBe(256 * MiB);
  });

  it('processes a GPUBuffer of logits over one storage binding in pieces (loss and gradient)', async () => {
    const [rows, classes] = [1100, 32000];   // 140.8 MB > 128 MiB
    const data = logitsOf(rows, classes);
    const target = { data: Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes), shape: [rows] };
    target.data[5] = -100;
    const buffer = device!.createBuffer({ size: data.byteLength, usage: 0x80 | 0x8 | 0x4 });
    device!.queue.writeBuffer(buffer, 0, data.buffer, 0, data.byteLength);
    try {
      const options = { labelSmoothing: 0.1, grad: true } as const;
      const first = await ce.forward({ data: buffer, shape: [rows, classes] }, target, options);
      const reference = crossEntropyReference({ data, shape: [rows, classes] }, target, options);
      expectMatchesReference(first, reference, 'pieces');
      expectSameBits(await ce.forward({ data: buffer, shape: [rows, classes] }, target, options), first);
    } finally {
      buffer.destroy();
    }
  });

  it('processes K-dim rows that one pass scans and differentiates in pieces (the mean spans every piece)', async () => {
    const shape = [100, 21, 128, 128];   // 137.6 MB > 128 MiB: two pieces of whole samples
    const [samples, classes, positions] = [shape[0]!, shape[1]!, shape[2]! * shape[3]!];
    const data = logitsOf(samples * positions, classes);
    // Ignored rows only in the first samples: a denominator of one piece's weights would be wrong.
    const target = { data: Int32Array.from({ length: samples * positions }, (_, i) => (i < 3 * positions && i % 3 === 0
      ? -100 : (i * 7919) % classes)), shape: [samples, shape[2]!, shape[3]!] };
    const weight = Float32Array.from({ length: classes }, (_, c) => 0.5 + c / classes);
    const buffer = device!.createBuffer({ size: data.byteLength, usage: 0x80 | 0x8 | 0x4 });
    device!.queue.writeBuffer(buffer, 0, data.buffer, 0, data.byteLength);
    try {
      const options = { labelSmoothing: 0.1, weight, grad: true } as const;
      const first = await ce.forward({ data: buffer, shape }, target, options);
      expectMatchesReference(first, crossEntropyReference({ data, shape }, target, options), 'K-dim pieces');
      expectSameBits(await ce.forward({ data: buffer, shape }, target, options), first);
    } finally {
      buffer.destroy();
    }
  });

  it('streams host logits over one buffer through bounded GPU memory', async () => {
    const [rows, classes] = [2100, 32000];   // 268.8 MB > 256 MiB
    const data = logitsOf(rows, classes);
    const target = { data: Int32Array.from({ length: rows }, (_, i) => (i * 104729) % classes), shape: [rows] };
    const logits = { data, shape: [rows, classes] };
    for (const reduction of ['mean', 'none'] as const) {
      const first = await ce.forward(logits, target, { reduction });
      expectMatchesReference(first, crossEntropyReference(logits, target, { reduction }), `streamed ${reduction}`);
      const again = await ce.forward(logits, target, { reduction });
      if (typeof first.loss === 'number') expect(Object.is(again.loss, first.loss)).toBe(true);
      else expect(Buffer.from((again.loss as Float32Array).buffer).equals(Buffer.from(first.loss.buffer))).toBe(true);
    }
    await expect(ce.forward(logits, target, { grad: true })).rejects.toThrow(/streamed from the host/);
  });

  it('processes 16-bit logits over one storage binding in pieces: rows of odd length, gradient in 16 bits', async () => {
    // 70.4 M float16 values, 140.8 MB > 128 MiB; rows of odd length make every piece start on a
    // row whose byte offset is aligned only because the planner steps in aligned samples.
    const [rows, classes] = [2200, 32001];
    const data = halfLogitsOf(rows, classes, 'float16');
    const target = { data: Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes), shape: [rows] };
    target.data[7] = -100;
    const buffer = halfBuffer(data);
    try {
      // 'sum': each row's gradient is its own, so a few rows' reference checks them (a float64
      // gradient of every row would take most of this test's time).
      const options = { reduction: 'sum', labelSmoothing: 0.1, grad: true } as const;
      const logits = { data: buffer, shape: [rows, classes], dtype: 'float16' } as const;
      const first = await ce.forward(logits, target, options);
      expect(first.grad).toBeInstanceOf(Uint16Array);
      expect(first.grad.length).toBe(rows * classes);
      const { grad: _, ...lossOnly } = options;
      expectMatchesReference({ loss: first.loss }, crossEntropyReference({ data, shape: [rows, classes], dtype: 'float16' },
        target, lossOnly), 'float16 pieces, loss');
      // Rows of the first piece, its last and the next piece's first, the end. The cut is at row
      // 2048: pieces step in 128 rows of 64,002 bytes, the least that keeps offsets 256-aligned.
      expect(planWork(describeProblem(logits, target, options, GPU_DATA), device!.limits).pieces.map((p) => p.firstRow))
        .toEqual([0, 2048]);
      for (const row of [0, 7, 2047, 2048, 2049, rows - 1]) {
        const cut = (from: number, length: number) => ({ from: from * classes, to: (from + length) * classes });
        const { from, to } = cut(row, 1);
        const reference = crossEntropyReference({ data: data.subarray(from, to), shape: [1, classes], dtype: 'float16' },
          { data: target.data.subarray(row, row + 1), shape: [1] }, options);
        expectMatchesReference({ loss: reference.loss as number, grad: first.grad.subarray(from, to) }, reference,
          `float16 pieces, row ${row}`);
      }
      expectSameBits(await ce.forward(logits, target, options), first);
    } finally {
      buffer.destroy();
    }
  });

  it('streams 16-bit host logits over one buffer, piece by piece', async () => {
    const [rows, classes] = [4300, 32001];   // 275.2 MB of bfloat16 > 256 MiB, an odd element count
    const data = halfLogitsOf(rows, classes, 'bfloat16');
    const target = { data: Int32Array.from({ length: rows }, (_, i) => (i * 104729) % classes), shape: [rows] };
    const logits = { data, shape: [rows, classes], dtype: 'bfloat16' } as const;
    const first = await ce.forward(logits, target, { reduction: 'none' });
    expectMatchesReference(first, crossEntropyReference(logits, target, { reduction: 'none' }), 'streamed bfloat16');
    const again = await ce.forward(logits, target, { reduction: 'none' });
    expect(Buffer.from(again.loss.buffer).equals(Buffer.from(first.loss.buffer))).toBe(true);
  });
});
