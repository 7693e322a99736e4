/**
 * WebGPU's limits are no limit for the linear head, on a device with the default limits (128 MiB
 * per binding, 256 MiB per buffer): GPT-2's classifier [50257, 768] in f32 (154 MB, over one
 * binding) from a GPUBuffer is bound in vocabulary slices; a [128256, 768] f32 classifier (394 MB,
 * over one buffer) from a host array is uploaded in several buffers, and its gradient read back
 * from several. Few rows, so that the float64 reference stays quick. Tolerance: the linear head's
 * (helpers/linear-tolerance.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CrossEntropy, linearCrossEntropyReference, type LinearReferenceResult, type LinearResult,
} from '../../src/index.js';
import { describeLinearProblem } from '../../src/linear-problem.js';
import { planLinear } from '../../src/linear-plan.js';
import { Random } from '../../problems/random.js';
import { gpuBuffer } from '../helpers/gpu-inputs.js';
import { linearMismatch } from '../helpers/linear-tolerance.js';
import { requireDefaultLimitsDevice } from '../helpers/webgpu-node.js';

const device = await requireDefaultLimitsDevice();
const GPU_DATA = { floatArrays: [Float32Array], gpuBuffers: true };

/** A classifier of unit-scale logits for unit hidden states, made quickly (hundreds of MB). */
function classifierOf(classes: number, depth: number): Float32Array {
  const data = new Float32Array(classes * depth);
  const scale = 2 / Math.sqrt(depth);
  for (let i = 0; i < data.length; i++) data[i] = (((i * 2654435761) % 4096) / 4096 - 0.5) * scale;
  return data;
}

function expectClose(result: LinearResult, reference: LinearReferenceResult, depth: number): void {
  const mismatch = linearMismatch(result, reference, depth);
  expect(mismatch, String(mismatch)).toBeNull();
}

describe.skipIf(!device)('the linear head over the device limits', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device! });
  });
  afterAll(() => ce?.destroy());
  const depth = 768;

  it('a [50257, 768] f32 classifier from a GPUBuffer (over one binding): vocabulary slices', async () => {
    const classes = 50257;
    const rows = 3;
    const random = new Random(50257);
    const hidden = { data: Float32Array.from({ length: rows * depth }, () => random.normal()), shape: [rows, depth] };
    const values = classifierOf(classes, depth);
    const target = { data: Int32Array.from([7, 50256, 31337]), shape: [rows] };
    const bias = Float32Array.from({ length: classes }, (_, v) => ((v % 97) - 48) / 96);
    const limits = device!.limits;
    expect(values.byteLength).toBeGreaterThan(limits.maxStorageBufferBindingSize);
    const problem = describeLinearProblem(hidden, { data: values, shape: [classes, depth] }, target, { grad: true, bias },
      GPU_DATA);
    expect(planLinear(problem, limits).slices.length).toBeGreaterThan(1);

    const classifier = gpuBuffer(device!, values);
    const options = { bias, grad: true, labelSmoothing: 0.1 } as const;
    const result = await ce.linear(hidden, { data: classifier, shape: [classes, depth] }, target, options);
    const again = await ce.linear(hidden, { data: classifier, shape: [classes, depth] }, target, options);
    classifier.destroy();
    expect(Object.is(again.loss, result.loss)).toBe(true);
    for (const name of ['hidden', 'classifier', 'bias'] as const) {
      expect(Buffer.from(again.grad![name]!.buffer).equals(Buffer.from(result.grad![name]!.buffer)), name).toBe(true);
    }
    expectClose(result, linearCrossEntropyReference(hidden, { data: values, shape: [classes, depth] }, target, options), depth);
  });

  it('a [128256, 768] f32 classifier from a host array (394 MB, over one buffer): several buffers', async () => {
    const classes = 128256;
    const rows = 2;
    const random = new Random(128256);
    const hidden = { data: Float32Array.from({ length: rows * depth }, () => random.normal()), shape: [rows, depth] };
    const classifier = { data: classifierOf(classes, depth), shape: [classes, depth] };
    const target = { data: Int32Array.from([128255, 4]), shape: [rows] };
    expect(classifier.data.byteLength).toBeGreaterThan(device!.limits.maxBufferSize);
    const problem = describeLinearProblem(hidden, classifier, target, { grad: true }, GPU_DATA);
    expect(planLinear(problem, device!.limits).stores.length).toBeGreaterThan(1);

    const result = await ce.linear(hidden, classifier, target, { grad: true });
    expectClose(result, linearCrossEntropyReference(hidden, classifier, target, { grad: true }), depth);
    // linearGpu returns each gradient in one GPUBuffer: this one cannot be.
    await expect(ce.linearGpu(hidden, classifier, target, { grad: true })).rejects
      .toThrow(/the gradient of the classifier .* exceeds this device's maxBufferSize/);
    // The loss alone, and a frozen classifier, can.
    const run = await ce.linearGpu(hidden, classifier, target, { grad: { hidden: true } });
    expect((await run.readLoss()).loss).toBe(result.loss);
    run.destroy();
  });
});
