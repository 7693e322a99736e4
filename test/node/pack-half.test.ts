/**
 * Rounding f32 values to 16-bit values packed two per word (pack-half.wgsl through
 * src/gpu/pack-half.ts), against the host's encodeHalf bit for bit: every 16-bit value, every
 * halfway point between neighbours and the f32 values either side of it (ties to even),
 * overflow to infinity, the subnormals, ±0, ±inf and NaN (any NaN pattern). Ranges start and end
 * inside words (odd offsets and counts): the other half of a shared word must keep its value, and
 * so must every element outside the range; two neighbouring ranges share a word.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BufferUsage, MapMode } from '../../src/gpu/constants.js';
import { encodeDispatches, type PreparedDispatch } from '../../src/gpu/dispatch.js';
import {
  packHalfKernel, packHalfUniform, planPackHalf, preparePackHalf, type PackHalfPlan,
} from '../../src/gpu/pack-half.js';
import { kernelsFor, type Kernels } from '../../src/gpu/pipelines.js';
import { SHADER_MODULES } from '../../src/gpu/shader-modules.js';
import { PACK_HALF_PARAMS } from '../../src/gpu/shader-structs.js';
import { uniformBlocks } from '../../src/gpu/uniforms.js';
import {
  bfloat16Value, encodeHalf, float16Value, type HalfDtype,
} from '../../src/half-precision.js';
import { Random } from '../../problems/random.js';
import { nextF32, roundingCases } from '../helpers/half-rounding-cases.js';
import { gpuBuffer } from '../helpers/gpu-inputs.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

/** WebGPU's default limits. */
const LIMITS = { maxComputeWorkgroupsPerDimension: 65535, minStorageBufferOffsetAlignment: 256,
  maxStorageBufferBindingSize: 2 ** 27 };

const valueOf = (bits: number, dtype: HalfDtype) => (dtype === 'float16' ? float16Value(bits) : bfloat16Value(bits));

describe('planPackHalf', () => {
  it('writes the uniform block pack-half.wgsl declares (PackParams: its fields, in order, all u32)', () => {
    const file = SHADER_MODULES.packHalf.find((f) => f.name === 'pack-half')!;
    const body = /struct PackParams \{([^}]*)\}/.exec(file.code.replace(/\/\/.*$/gm, ''))![1]!;
    const fields = body.split(',').map((field) => field.trim()).filter(Boolean).map((field) => field.split(':').map((x) => x.trim()));
    expect(fields).toEqual(Object.entries(PACK_HALF_PARAMS.fields));
  });

  it('binds each buffer from the aligned byte at or below its start; one invocation per two words', () => {
    // 5 values to elements 3..7: words 1..3, two invocations.
    const odd = planPackHalf(5, 'float16', { dst: 3 }, LIMITS);
    expect(odd.params).toEqual({ count: 5, src_offset: 0, dst_offset: 3, pairs: 2 });
    expect(odd.ranges).toEqual({ src: { offset: 0, size: 20 }, dst: { offset: 0, size: 16 } });
    expect(odd.invocations).toBe(2);
    // Elements 4..8: words 2..4 (the last half-used), two invocations.
    expect(planPackHalf(5, 'bfloat16', { dst: 4 }, LIMITS).params.pairs).toBe(2);
    expect(planPackHalf(4, 'bfloat16', { dst: 4 }, LIMITS).params.pairs).toBe(1);
    expect(planPackHalf(1, 'bfloat16', { dst: 1 }, LIMITS).params.pairs).toBe(1);
    // Past the alignment: src from element 70 (byte 280), dst from element 131 (byte 262).
    const far = planPackHalf(10, 'float16', { src: 70, dst: 131 }, LIMITS);
    expect(far.ranges).toEqual({ src: { offset: 256, size: 280 + 40 - 256 }, dst: { offset: 256, size: 284 - 256 } });
    expect([far.params.src_offset, far.params.dst_offset]).toEqual([6, 3]);
    const wide = planPackHalf(2 ** 24, 'float16', {}, { ...LIMITS, maxComputeWorkgroupsPerDimension: 1000 });
    expect(wide.invocations).toBe(2 ** 22);
    expect(wide.groups[0] * wide.groups[1] * 64).toBeGreaterThanOrEqual(2 ** 22);
  });

  it('rejects an empty or fractional count, negative offsets, other dtypes and ranges wider than a binding', () => {
    expect(() => planPackHalf(0, 'float16', {}, LIMITS)).toThrow(/count must be a positive integer, not 0/);
    expect(() => planPackHalf(2.5, 'float16', {}, LIMITS)).toThrow(/count must be/);
    expect(() => planPackHalf(2, 'float16', { dst: -1 }, LIMITS)).toThrow(/offset of dst must be an integer ≥ 0, not -1/);
    expect(() => planPackHalf(2, 'float32' as HalfDtype, {}, LIMITS)).toThrow(/dtype must be 'float16' or 'bfloat16', not float32/);
    expect(() => planPackHalf(2 ** 25 + 1, 'float16', {}, LIMITS))
      .toThrow(/src spans 134217732 bytes, over this device's maxStorageBufferBindingSize/);
    expect(() => planPackHalf(2 ** 25, 'float16', {}, LIMITS)).not.toThrow();
  });
});

describe.skipIf(!device)('packHalf on the GPU', () => {
  let kernels: Kernels;
  const buffers: GPUBuffer[] = [];
  beforeAll(async () => {
    kernels = await kernelsFor(device!);
  });

  function upload(data: Float32Array | Uint16Array): GPUBuffer {
    const buffer = gpuBuffer(device!, data);
    buffers.push(buffer);
    return buffer;
  }

  async function readHalves(buffer: GPUBuffer): Promise<Uint16Array> {
    const staging = device!.createBuffer({ size: buffer.size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const encoder = device!.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
    device!.queue.submit([encoder.finish()]);
    await staging.mapAsync(MapMode.READ);
    const halves = new Uint16Array(staging.getMappedRange().slice(0));
    staging.destroy();
    return halves;
  }

  /** Runs packings in order in one compute pass. */
  async function runAll(runs: readonly { plan: PackHalfPlan; src: GPUBuffer; dst: GPUBuffer }[]): Promise<void> {
    const params = uniformBlocks(device!, device!.limits.minUniformBufferOffsetAlignment, (size, usage) => {
      const buffer = device!.createBuffer({ size, usage });
      buffers.push(buffer);
      return buffer;
    }, runs.map((run) => packHalfUniform(run.plan)));
    const dispatches: PreparedDispatch[] = [];
    for (const [i, run] of runs.entries()) {
      dispatches.push(preparePackHalf(device!, await packHalfKernel(kernels, run.plan), run.plan, params[i]!, run));
    }
    const encoder = device!.createCommandEncoder();
    encodeDispatches(encoder, 'pack-half-test', dispatches);
    device!.pushErrorScope('validation');
    device!.queue.submit([encoder.finish()]);
    expect((await device!.popErrorScope())?.message).toBeUndefined();
  }

  function destroyBuffers(): void {
    for (const buffer of buffers.splice(0)) buffer.destroy();
  }

  /**
   * Every 16-bit value of `dtype`, each halfway point to its neighbour away from 0 and the f32
   * values either side of it, overflow and specials, and random f32 bit patterns (NaN aside) in
   * a shuffled order. f32 subnormals, which a GPU may flush to 0 (SwiftShader does), are left out.
   */
  function testValues(dtype: HalfDtype): Float32Array {
    const values = roundingCases(dtype);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    values.push(65504, 65519.99, 65520, -65520, 65536, 1e6, 1e30, -1e30, 3.4e38, -3.4e38, Infinity, -Infinity, 0, -0,
      2 ** -25, -(2 ** -25), nextF32(2 ** -25, true), 2 ** -24 * 1.5, 2 ** -24 * 2.5, NaN);
    const random = new Random(dtype === 'float16' ? 16 : 32);
    for (let i = 0; i < 20_000; i++) {
      u32[0] = Math.floor(random.next() * 2 ** 32);
      values.push(f32[0]!);
    }
    const kept = values.filter((v) => !(v !== 0 && Math.abs(v) < 2 ** -126));
    // Shuffled, so that neighbouring values (and the halves of a word) are of every kind.
    for (let i = kept.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [kept[i], kept[j]] = [kept[j]!, kept[i]!];
    }
    return Float32Array.from(kept);
  }

  /** Expects the 16-bit `got` to be `expected` (encodeHalf's bits; any NaN pattern for a NaN). */
  function expectBits(label: string, got: Uint16Array, values: Float32Array, dtype: HalfDtype): void {
    const expected = encodeHalf(values, dtype);
    const wrong: string[] = [];
    for (let i = 0; i < values.length && wrong.length < 5; i++) {
      const ok = Number.isNaN(values[i]) ? Number.isNaN(valueOf(got[i]!, dtype)) : got[i] === expected[i];
      if (!ok) wrong.push(`element ${i}: ${values[i]} gave ${got[i]!.toString(16)}, expected ${expected[i]!.toString(16)}`);
    }
    expect(wrong, label).toEqual([]);
  }

  describe.each(['float16', 'bfloat16'] as const)('%s', (dtype) => {
    const values = testValues(dtype);

    it.each([
      { src: 0, dst: 0, count: values.length },
      { src: 0, dst: 1, count: values.length },
      { src: 3, dst: 0, count: values.length - 3 },
      { src: 70, dst: 131, count: values.length - 70 },
      { src: 5, dst: 2, count: 1 },
      { src: 5, dst: 3, count: 1 },
      { src: 1, dst: 3, count: 2 },
      { src: 2, dst: 7, count: 6 },
    ])('values from element $src to elements $dst on ($count of them): as encodeHalf rounds, every other half kept',
      async ({ src, dst, count }) => {
        const plan = planPackHalf(count, dtype, { src, dst }, device!.limits);
        const srcBuffer = upload(values);
        // The destination holds other 16-bit values before and after the range: they must stay.
        const before = Uint16Array.from({ length: dst + count + 5 }, (_, i) => (0x1234 + 7 * i) & 0xffff);
        const dstBuffer = upload(before);
        await runAll([{ plan, src: srcBuffer, dst: dstBuffer }]);
        const got = await readHalves(dstBuffer);
        const label = `${dtype} ${count} values, src ${src}, dst ${dst}`;
        expectBits(label, got.subarray(dst, dst + count), values.subarray(src, src + count), dtype);
        const outside = [...before.keys()].filter((i) => (i < dst || i >= dst + count) && got[i] !== before[i]);
        expect(outside, `${label}: elements changed outside the range`).toEqual([]);
        destroyBuffers();
      });

    it('neighbouring ranges packed into one buffer by two dispatches share a word', async () => {
      const count = 1001;
      const srcA = upload(values.subarray(0, 37));
      const srcB = upload(values.subarray(37, count));
      const dstBuffer = upload(new Uint16Array(count + 1).fill(0xffff));
      await runAll([
        { plan: planPackHalf(37, dtype, {}, device!.limits), src: srcA, dst: dstBuffer },
        { plan: planPackHalf(count - 37, dtype, { dst: 37 }, device!.limits), src: srcB, dst: dstBuffer },
      ]);
      const got = await readHalves(dstBuffer);
      expectBits(`${dtype} two ranges`, got.subarray(0, count), values.subarray(0, count), dtype);
      expect(got[count]).toBe(0xffff);
      destroyBuffers();
    });
  });

  it('refuses a buffer smaller than the plan\'s range, and dst the same buffer as src', async () => {
    const plan = planPackHalf(5, 'float16', { dst: 3 }, device!.limits);
    const kernel = await packHalfKernel(kernels, plan);
    const [params] = uniformBlocks(device!, device!.limits.minUniformBufferOffsetAlignment, (size, usage) => {
      const buffer = device!.createBuffer({ size, usage });
      buffers.push(buffer);
      return buffer;
    }, [packHalfUniform(plan)]);
    const src = upload(new Float32Array(5));
    const small = upload(new Uint16Array(6));
    expect(() => preparePackHalf(device!, kernel, plan, params!, { src, dst: small }))
      .toThrow(/dst needs 16 bytes, its buffer has 12/);
    expect(() => preparePackHalf(device!, kernel, plan, params!, { src, dst: src })).toThrow(/dst must be a buffer other than src/);
    expect(preparePackHalf(device!, kernel, plan, params!, { src, dst: upload(new Uint16Array(8)) })).not.toBeNull();
    destroyBuffers();
  });
});
