/**
 * Faults, each loud and precise, with the instance (or a new one) working afterwards: caller
 * GPUBuffers that are too small, lack STORAGE usage, were destroyed or belong to another device;
 * WebGPU errors on the library's own objects caught in error scopes and named; a shader that fails
 * to compile; destroy() and a lost device with calls in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference, ShaderCompilationError, WebGpuError } from '../../src/index.js';
import { inErrorScopes } from '../../src/gpu/error-scopes.js';
import { createKernel } from '../../src/gpu/pipelines.js';
import { buildCase, type CaseSpec } from '../../problems/cases.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { requireDefaultLimitsDevice, requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

const STORAGE = 0x80;
const COPY_DST = 0x08;
const COPY_SRC = 0x04;

const SMALL: CaseSpec = { shape: [8, 10], targetKind: 'classIndex', reduction: 'mean', weighted: false,
  labelSmoothing: 0, ignoredFraction: 0, values: 'normal', seed: 1 };
const small = buildCase(SMALL);

/** Awaits every call at once (none rejects unhandled) and expects each to reject with `message`. */
async function expectAllReject(calls: readonly Promise<unknown>[], message: RegExp): Promise<void> {
  const settled = await Promise.allSettled(calls);
  settled.forEach((outcome, i) => {
    expect(outcome.status, `call ${i}`).toBe('rejected');
    expect(String((outcome as PromiseRejectedResult).reason), `call ${i}`).toMatch(message);
  });
}

async function expectWorks(ce: CrossEntropy): Promise<void> {
  expectMatchesReference(await ce.forward(small.logits, small.target, { grad: true }),
    crossEntropyReference(small.logits, small.target, { grad: true }), 'after the fault');
}

function bufferWith(d: GPUDevice, data: Float32Array | Int32Array, label: string, usage = STORAGE | COPY_DST): GPUBuffer {
  const buffer = d.createBuffer({ label, size: Math.max(4, data.byteLength), usage });
  d.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

describe.skipIf(!device)("the caller's GPUBuffers", () => {
  let ce: CrossEntropy;
  const owned: GPUBuffer[] = [];
  const buffer = (data: Float32Array | Int32Array, label: string, usage?: number) => {
    const b = bufferWith(device!, data, label, usage);
    owned.push(b);
    return b;
  };
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => {
    ce?.destroy();
    owned.forEach((b) => b.destroy());
  });

  const none = { reduction: 'none', grad: true } as const;
  const HOST_CHECKED = [
    { name: 'target too small', call: () => ce.forward(small.logits, { data: buffer(new Int32Array(4), 't'), shape: [8] }),
      error: RangeError, message: /target\.data is a GPUBuffer of 16 bytes but target\.shape \[8\] needs 32/ },
    { name: 'weight too small', call: () => ce.forward(small.logits, small.target, { weight: buffer(new Float32Array(9), 'w') }),
      error: RangeError, message: /options\.weight is a GPUBuffer of 36 bytes but 10 classes need 40/ },
    { name: 'gradOutput too small', call: () => ce.forward(small.logits, small.target,
      { ...none, gradOutput: buffer(new Float32Array(7), 'g') }),
      error: RangeError, message: /options\.gradOutput is a GPUBuffer of 28 bytes but the loss has 8 elements, which need 32/ },
    { name: 'logits without STORAGE usage', call: () => ce.forward({ data: buffer(small.logits.data, 'l', COPY_DST | COPY_SRC),
      shape: [8, 10] }, small.target), error: TypeError,
      message: /logits\.data is a GPUBuffer without STORAGE usage \(usage 0xc\): kernels bind it as a storage buffer/ },
    { name: 'target without STORAGE usage', call: () => ce.forward(small.logits,
      { data: buffer(small.target.data, 't', COPY_DST), shape: [8] }),
      error: TypeError, message: /target\.data is a GPUBuffer without STORAGE usage \(usage 0x8\)/ },
    { name: 'weight without STORAGE usage', call: () => ce.forward(small.logits, small.target,
      { weight: buffer(new Float32Array(10), 'w', COPY_DST) }),
      error: TypeError, message: /options\.weight is a GPUBuffer without STORAGE usage/ },
    { name: 'gradOutput without STORAGE usage', call: () => ce.forward(small.logits, small.target,
      { ...none, gradOutput: buffer(new Float32Array(8), 'g', COPY_DST) }),
      error: TypeError, message: /options\.gradOutput is a GPUBuffer without STORAGE usage/ },
    { name: 'an encoder that is not a GPUCommandEncoder', call: () => ce.forwardGpu(small.logits, small.target,
      { encoder: {} as GPUCommandEncoder }), error: TypeError, message: /options\.encoder must be a GPUCommandEncoder, got Object/ },
  ];

  it.each(HOST_CHECKED)('rejects $name before any GPU work', async ({ call, error, message }) => {
    const before = ce.gpuMemory();
    await expect(call()).rejects.toThrow(error);
    await expect(call()).rejects.toThrow(message);
    expect(ce.gpuMemory()).toEqual(before);
    await expectWorks(ce);
  });

  it('reports a destroyed logits buffer through the error scope, naming it and the argument', async () => {
    const logits = buffer(small.logits.data, 'my-logits');
    logits.destroy();
    const call = ce.forward({ data: logits, shape: [8, 10] }, small.target);
    await expect(call).rejects.toThrow(WebGpuError);
    await expect(ce.forward({ data: logits, shape: [8, 10] }, small.target)).rejects.toThrow(
      /CrossEntropy\.forward: WebGPU validation error on Buffer "my-logits" \(the caller's logits\.data\): .*destroyed/);
    await expectWorks(ce);
  });

  it('reports a buffer from another device through the error scope, naming it and the argument', async () => {
    const other = (await requireDefaultLimitsDevice())!;
    try {
      const target = bufferWith(other, small.target.data, 'their-target');
      const error = await ce.forward(small.logits, { data: target, shape: [8] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebGpuError);
      expect((error as WebGpuError).kind).toBe('validation');
      expect((error as Error).message).toMatch(
        /WebGPU validation error on Buffer "their-target" \(the caller's target\.data\): .*cannot be used with/);
      await expectWorks(ce);
    } finally {
      other.destroy();
    }
  });
});

describe.skipIf(!device)("WebGPU errors on the library's own objects", () => {
  it('names the buffer that could not be made, leaves nothing held and keeps working', async () => {
    // One f32 logit per row fits a default-limits buffer, but each row's 36-byte summary does not:
    // the library's own createBuffer fails on the GPU side, where only the error scope sees it.
    const small = (await requireDefaultLimitsDevice())!;
    const ce = await CrossEntropy.create({ device: small });
    const rows = Math.ceil(small.limits.maxBufferSize / 36) + 64;
    const logits = small.createBuffer({ label: 'tall-logits', size: rows * 4, usage: STORAGE });
    const target = small.createBuffer({ label: 'tall-target', size: rows * 4, usage: STORAGE });
    try {
      const before = ce.gpuMemory();
      const error = await ce.forward({ data: logits, shape: [rows, 1] }, { data: target, shape: [rows] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebGpuError);
      expect((error as WebGpuError).object).toBe('BufferDescriptor "cross-entropy:row-summary"');
      expect((error as Error).message).toMatch(
        /^CrossEntropy\.forward: WebGPU validation error on BufferDescriptor "cross-entropy:row-summary": Buffer size/);
      expect(ce.gpuMemory()).toEqual(before);
      await expectWorks(ce);
    } finally {
      logits.destroy();
      target.destroy();
      ce.destroy();
      small.destroy();
    }
  });

  it('reports an out-of-memory error with its kind and object', async () => {
    // SwiftShader allocates from host memory and cannot be made to run out safely on a shared
    // machine, so the scopes' reporting is driven by a device whose out-of-memory scope reports one.
    const oom = { message: 'Not enough memory to allocate [Buffer "cross-entropy:grad"].' } as GPUError;
    const popped = [null, oom, null];
    const stub = { pushErrorScope: () => {}, popErrorScope: async () => popped.shift() ?? null } as unknown as GPUDevice;
    const { value, reported } = inErrorScopes(stub, 'forward', () => 42);
    expect(value).toBe(42);
    const error = await reported.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebGpuError);
    expect((error as WebGpuError).kind).toBe('out-of-memory');
    expect((error as Error).message).toBe('CrossEntropy.forward: WebGPU out-of-memory error on Buffer "cross-entropy:grad": '
      + 'Not enough memory to allocate [Buffer "cross-entropy:grad"].');
  });

  it('reports a shader that fails to compile with its file and line', async () => {
    const files = [
      { name: 'prelude', code: 'const one = 1.0;\nconst two = 2.0;' },
      { name: 'broken-kernel', code: '@compute @workgroup_size(1)\nfn main() {\n  let x = undefined_value;\n}' },
    ];
    const error = await createKernel(device!, files, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShaderCompilationError);
    expect((error as Error).message).toMatch(/WGSL compilation of broken-kernel\.wgsl failed:\nbroken-kernel\.wgsl:3:\d+: .*undefined_value/);
  });
});

describe.skipIf(!device)('destroy() with calls in flight', () => {
  it('rejects the calls in flight and later ones clearly, and frees everything', async () => {
    const ce = await CrossEntropy.create({ device: device! });
    await expectWorks(ce);
    const submitted = await ce.forwardGpu(small.logits, small.target, { grad: true });
    const reading = (await ce.forwardGpu(small.logits, small.target)).read();
    const starting = [small, buildCase({ ...SMALL, shape: [3, 7, 2] })].map((c) => ce.forward(c.logits, c.target));
    ce.destroy();
    expect(ce.gpuMemory()).toEqual({ buffers: 0, bytes: 0 });
    const inFlight = /CrossEntropy\.\w+: this instance was destroyed while the call was in flight; create a new one/;
    await expectAllReject([reading, ...starting, submitted.read()], inFlight);
    submitted.destroy();
    const after = /CrossEntropy\.\w+: this instance was destroyed; create a new one/;
    await expect(ce.forward(small.logits, small.target)).rejects.toThrow(after);
    await expect(ce.binary(small.logits, { data: new Float32Array(80), shape: [8, 10] })).rejects.toThrow(after);
    await expect(ce.rowStatistics(small.logits, small.target)).rejects.toThrow(after);
    expect(ce.gpuMemory()).toEqual({ buffers: 0, bytes: 0 });
    const fresh = await CrossEntropy.create({ device: device! });
    await expectWorks(fresh);
    fresh.destroy();
  });
});

describe.skipIf(!device)('a lost device', () => {
  it('rejects pending and later calls clearly; a new instance on a new device works', async () => {
    const doomed = (await requireDefaultLimitsDevice())!;
    const ce = await CrossEntropy.create({ device: doomed });
    await expectWorks(ce);
    const submitted = await ce.forwardGpu(small.logits, small.target, { grad: true });
    const pending = [
      submitted.read(),
      ce.forward(small.logits, small.target, { grad: true }),
      ce.binary(small.logits, { data: new Float32Array(80).fill(0.5), shape: [8, 10] }),
      ce.rowStatistics(small.logits, small.target),
    ];
    doomed.destroy();
    const lost = /CrossEntropy\.\w+: the GPU device was lost \(destroyed: .*\); create a new CrossEntropy on a new device/;
    await expectAllReject(pending, lost);
    await expect(ce.forward(small.logits, small.target)).rejects.toThrow(lost);
    submitted.destroy();
    ce.destroy();
    expect(ce.gpuMemory()).toEqual({ buffers: 0, bytes: 0 });
    const fresh = (await requireDefaultLimitsDevice())!;
    const again = await CrossEntropy.create({ device: fresh });
    await expectWorks(again);
    again.destroy();
    fresh.destroy();
  });
});
