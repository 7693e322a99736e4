/**
 * 16-bit logits, float16 and bfloat16: the host conversions (every bit pattern, ties to even), the
 * GPU's own reading and rounding of them (against the host's, over every pattern and the halfway
 * points between them), every layout the kernels take (short rows, long rows in chunks, vec4 and
 * unaligned walks, K-dimensional scalar and lane layouts, rows of odd length that share a word,
 * odd element counts), every option, 16-bit and f32 gradients, in place and not, the named edge
 * values, and the errors of bad 16-bit input. Pieces over one binding and streamed 16-bit host
 * data are in large.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyReference, compareArrays, compareWithReference, CrossEntropy, crossEntropyReference, decodeHalf,
  encodeHalf,
  lossFromRowStatistics, mergeRowStatistics, TOLERANCES, type HalfDtype, type Reduction,
} from '../../src/index.js';
import { bfloat16Bits, bfloat16Value, float16Bits, float16Value, halfUlp } from '../../src/half-precision.js';
import type { BindingKind } from '../../src/gpu/kernels.js';
import { createKernel } from '../../src/gpu/pipelines.js';
import { buildCase, caseName, toHalfCase, type CaseSpec } from '../../problems/cases.js';
import { roundingCases } from '../helpers/half-rounding-cases.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { gpuBuffer, onGpu } from '../helpers/gpu-inputs.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();
const DTYPES: readonly HalfDtype[] = ['float16', 'bfloat16'];
const valueOf = (bits: number, dtype: HalfDtype) => (dtype === 'float16' ? float16Value(bits) : bfloat16Value(bits));
const bitsOf = (value: number, dtype: HalfDtype) => (dtype === 'float16' ? float16Bits(value) : bfloat16Bits(value));

describe('host conversions', () => {
  it.each(DTYPES)('%s: every bit pattern decodes exactly and encodes back to itself (NaNs to a NaN)', (dtype) => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const values = decodeHalf(all, dtype);
    const back = encodeHalf(values, dtype);
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(values[i])) {
        expect(Number.isNaN(valueOf(back[i]!, dtype)), `pattern ${i.toString(16)}`).toBe(true);
      } else {
        expect(back[i], `pattern ${i.toString(16)}`).toBe(i);
      }
    }
  });

  it('float16: rounds to nearest, ties to even, overflows at 65520 and underflows through the subnormals', () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -11 + 2 ** -30, 0x3c01],
      [65504, 0x7bff], [65519.99, 0x7bff], [65520, 0x7c00], [-65520, 0xfc00], [1e9, 0x7c00],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [2 ** -25 + 2 ** -40, 0x0001],
      [-0, 0x8000], [-(2 ** -26), 0x8000], [Infinity, 0x7c00], [-Infinity, 0xfc00], [0.1, 0x2e66], [-2, 0xc000],
    ];
    for (const [value, bits] of cases) expect(float16Bits(value), `${value}`).toBe(bits);
    expect(float16Bits(NaN) & 0x7c00).toBe(0x7c00);
  });

  it('bfloat16: the top half of the f32 bits, rounded to nearest even', () => {
    const cases: [number, number][] = [
      [1, 0x3f80], [1 + 2 ** -8, 0x3f80], [1 + 3 * 2 ** -8, 0x3f82], [-2, 0xc000], [0.1, 0x3dcd],
      [3.3895313892515355e38, 0x7f7f], [(2 - 2 ** -8) * 2 ** 127, 0x7f80], [-Infinity, 0xff80], [2 ** -126, 0x0080],
      [2 ** -133, 0x0001], [2 ** -134, 0x0000],
    ];
    for (const [value, bits] of cases) expect(bfloat16Bits(value), `${value}`).toBe(bits);
  });

  it.each(DTYPES)('%s: a rounded value is within half an ulp, and a tie goes to the even neighbour', (dtype) => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20000; i++) {
      const magnitude = dtype === 'float16' ? 2 ** (random() * 40 - 26) : 2 ** (random() * 250 - 126);
      const value = (random() < 0.5 ? -1 : 1) * magnitude;
      const bits = bitsOf(value, dtype);
      const rounded = valueOf(bits, dtype);
      if (!Number.isFinite(rounded)) continue;
      const error = Math.abs(rounded - value);
      expect(error, `${value}`).toBeLessThanOrEqual(halfUlp(value, dtype));
      if (error === halfUlp(value, dtype)) expect(bits & 1, `tie ${value}`).toBe(0);
    }
  });

  it('rejects what is not 16-bit data or a 16-bit dtype', () => {
    expect(() => encodeHalf([1], 'float32' as never)).toThrow(/encodeHalf: dtype must be 'float16' or 'bfloat16', got 'float32'/);
    expect(() => decodeHalf(new Float32Array(2) as never, 'float16')).toThrow(/bits must be a Uint16Array.*got Float32Array/);
  });
});

describe.skipIf(!device)('16-bit values on the GPU', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  // The library's reading and rounding functions (lib/input-half.wgsl), run over arrays of values.
  const harness = {
    name: 'half-harness',
    code: `
      override workgroup_size: u32 = 64u;
      @group(0) @binding(2) var<storage, read> values: array<vec4<f32>>;
      @group(0) @binding(3) var<storage, read_write> rounded: array<vec4<u32>>;
      @group(0) @binding(4) var<storage, read_write> decoded: array<vec4<f32>>;
      @compute @workgroup_size(workgroup_size)
      fn round_values(@builtin(global_invocation_id) id: vec3<u32>) {
        if (id.x < arrayLength(&values)) { rounded[id.x] = half_bits4(values[id.x]); }
      }
      @compute @workgroup_size(workgroup_size)
      fn decode_values(@builtin(global_invocation_id) id: vec3<u32>) {
        if (id.x < arrayLength(&decoded)) { decoded[id.x] = stored_input4(id.x); }
      }`,
  };

  async function runHarness(dtype: HalfDtype, entry: 'round_values' | 'decode_values', input: Float32Array | Uint16Array,
    outputBytes: number): Promise<ArrayBuffer> {
    const { SHADER_MODULES } = await import('../../src/gpu/shader-modules.js');
    const lib = SHADER_MODULES.rowGradHalf.filter((f) => f.name === 'lib/float-bits' || f.name === 'lib/input-half');
    const bindings: Record<string, BindingKind> = entry === 'round_values'
      ? { values: 'read-only-storage', rounded: 'storage' } : { logits: 'read-only-storage', decoded: 'storage' };
    const kernel = await createKernel(device!, [...lib, harness], bindings,
      { HALF_FORMAT: dtype === 'float16' ? 1 : 2 }, entry);
    const inputBuffer = gpuBuffer(device!, input);
    const output = device!.createBuffer({ size: outputBytes, usage: 0x80 | 0x4 });
    const staging = device!.createBuffer({ size: outputBytes, usage: 0x1 | 0x8 });
    const [inputName, outputName] = Object.keys(bindings) as [string, string];
    const group = device!.createBindGroup({ layout: kernel.layout, entries: [
      { binding: kernel.bindings.get(inputName)!, resource: { buffer: inputBuffer } },
      { binding: kernel.bindings.get(outputName)!, resource: { buffer: output } },
    ] });
    const encoder = device!.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(outputBytes / 16 / 64));
    pass.end();
    encoder.copyBufferToBuffer(output, 0, staging, 0, outputBytes);
    device!.queue.submit([encoder.finish()]);
    await staging.mapAsync(1);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    [inputBuffer, output, staging].forEach((b) => b.destroy());
    return bytes;
  }

  it.each(DTYPES)('%s: every bit pattern is read as its exact value', async (dtype) => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const decoded = new Float32Array(await runHarness(dtype, 'decode_values', all, 65536 * 4));
    const expected = decodeHalf(all, dtype);
    for (let i = 0; i < 65536; i++) {
      // f32 subnormals (bfloat16's smallest values) may be flushed to 0 by a GPU (SwiftShader does).
      if (dtype === 'bfloat16' && (i & 0x7f80) === 0) continue;
      if (Number.isNaN(expected[i])) expect(Number.isNaN(decoded[i]), `pattern ${i.toString(16)}`).toBe(true);
      else expect(Object.is(decoded[i], expected[i]), `pattern ${i.toString(16)}: ${decoded[i]} vs ${expected[i]}`).toBe(true);
    }
  });

  it.each(DTYPES)('%s: f32 values round on the GPU as on the host: every value, every halfway point, ±1 ulp of it', async (dtype) => {
    // Every value, each halfway point to the next value away from zero and the f32 values either side of it.
    const values = roundingCases(dtype);
    values.push(65519.99, 65520, -65520, 1e30, -1e30, 3.4e38, Infinity, -Infinity, NaN);
    // f32 subnormals may be flushed to 0 by a GPU: left out.
    const input = Float32Array.from(values.filter((v) => !(v !== 0 && Math.abs(v) < 2 ** -126)));
    const padded = new Float32Array(Math.ceil(input.length / 4) * 4);
    padded.set(input);
    const rounded = new Uint32Array(await runHarness(dtype, 'round_values', padded, padded.length * 4));
    let checked = 0;
    for (let i = 0; i < input.length; i++) {
      const expected = bitsOf(input[i]!, dtype);
      if (Number.isNaN(input[i])) {
        expect(Number.isNaN(valueOf(rounded[i]!, dtype)), `NaN gives ${rounded[i]!.toString(16)}`).toBe(true);
        continue;
      }
      expect(rounded[i], `${input[i]} (f32 bits ${new Uint32Array(new Float32Array([input[i]!]).buffer)[0]!.toString(16)})`)
        .toBe(expected);
      checked++;
    }
    expect(checked).toBeGreaterThan(150_000);
  });

  /** A buffer's whole contents, as 16-bit halves. */
  async function readHalves(buffer: GPUBuffer): Promise<Uint16Array> {
    const staging = device!.createBuffer({ size: buffer.size, usage: 0x1 | 0x8 });
    const encoder = device!.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
    device!.queue.submit([encoder.finish()]);
    await staging.mapAsync(1);
    const halves = new Uint16Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return halves;
  }

  /** The layouts each kernel path takes, with rows of odd length and odd element counts among them. */
  const SHAPES = [
    [1, 3], [3, 5], [7, 33], [5, 64], [4, 1001], [3, 1001], [6, 2000], [2, 4099], [1, 50257], [3, 50257],
    [2, 3, 4, 5], [3, 5, 3], [2, 2, 1, 3], [4, 1], [1, 1],
  ];

  function specs(shape: number[], seed: number): CaseSpec[] {
    const base = { shape, values: 'normal', seed, grad: true } as const;
    return [
      { ...base, targetKind: 'classIndex', reduction: 'mean', weighted: true, labelSmoothing: 0.1, ignoredFraction: 0.3 },
      { ...base, targetKind: 'classIndex', reduction: 'sum', weighted: false, labelSmoothing: 0, ignoredFraction: 0,
        seed: seed + 1 },
      { ...base, targetKind: 'classIndex', reduction: 'none', weighted: true, labelSmoothing: 0, ignoredFraction: 0.2,
        zLoss: 1e-3, softcap: 4, seed: seed + 2 },
      { ...base, targetKind: 'probabilities', reduction: 'mean', weighted: true, labelSmoothing: 0.2, ignoredFraction: 0,
        seed: seed + 3 },
      { ...base, targetKind: 'classIndex', input: 'logProbabilities', reduction: 'mean', weighted: false, labelSmoothing: 0.1,
        ignoredFraction: 0, seed: seed + 4 },
      { ...base, targetKind: 'probabilities', input: 'probabilities', reduction: 'sum', weighted: false, labelSmoothing: 0,
        ignoredFraction: 0, seed: seed + 5 },
      { ...base, targetKind: 'classIndex', reduction: 'mean', weighted: false, labelSmoothing: 0, ignoredFraction: 0.1,
        values: 'masked', seed: seed + 6 },
    ];
  }

  const cases = DTYPES.flatMap((dtype, d) => SHAPES.flatMap((shape, s) => specs(shape, 100 * s + 1000 * d)
    .map((spec, k) => ({ dtype, spec, onDevice: (s + k) % 2 === 1, name: `${dtype} ${caseName(spec)}` }))));

  it.each(cases)('$name', async ({ dtype, spec, onDevice }) => {
    const c = toHalfCase(buildCase(spec), dtype);
    for (const gradDtype of [dtype, 'float32'] as const) {
      const options = { ...c.options, gradDtype };
      const reference = crossEntropyReference(c.logits, c.target, options);
      if (onDevice) {
        const moved = onGpu(device!, c);
        try {
          const gpu = await ce.forward(moved.logits, moved.target, { ...moved.options, gradDtype });
          expect(gpu.grad).toBeInstanceOf(gradDtype === 'float32' ? Float32Array : Uint16Array);
          expectMatchesReference(gpu, reference, `GPUBuffers, gradient in ${gradDtype}`);
        } finally {
          moved.destroy();
        }
      } else {
        const gpu = await ce.forward(c.logits, c.target, options);
        expectMatchesReference(gpu, reference, `host arrays, gradient in ${gradDtype}`);
      }
    }
  });

  it.skipIf(!device?.features.has('subgroups')).each(DTYPES)('%s: the subgroup form of the row statistics', async (dtype) => {
    const sub = await CrossEntropy.create({ device: device!, subgroups: true, poisonOutputs: true });
    try {
      for (const shape of [[6, 2000], [2, 4100]]) {
        const c = toHalfCase(buildCase({ shape, targetKind: 'classIndex', reduction: 'mean', weighted: true,
          labelSmoothing: 0.1, ignoredFraction: 0.2, values: 'normal', seed: 31, grad: true }), dtype);
        expectMatchesReference(await sub.forward(c.logits, c.target, c.options),
          crossEntropyReference(c.logits, c.target, c.options), `subgroups ${shape}`);
      }
    } finally {
      sub.destroy();
    }
  });

  it.each(DTYPES)('%s: the gradient in place over a GPUBuffer of an odd count keeps the last word\'s other half', async (dtype) => {
    const c = toHalfCase(buildCase({ shape: [3, 7], targetKind: 'classIndex', reduction: 'mean', weighted: false,
      labelSmoothing: 0.1, ignoredFraction: 0, values: 'normal', seed: 5, grad: true }), dtype);
    const words = new Uint16Array(22);
    words.set(c.logits.data);
    words[21] = 0xabcd;
    const buffer = gpuBuffer(device!, words);
    try {
      const run = await ce.forwardGpu({ data: buffer, shape: [3, 7], dtype }, c.target, { ...c.options, gradInPlace: true });
      expect(run.grad).toBe(buffer);
      const { grad } = await run.read();
      run.destroy();
      expectMatchesReference({ loss: 0, grad }, { ...crossEntropyReference(c.logits, c.target, c.options), loss: 0 });
      const after = await readHalves(buffer);
      expect(Array.from(after.subarray(0, 21))).toEqual(Array.from(grad!));
      expect(after[21]).toBe(0xabcd);
    } finally {
      buffer.destroy();
    }
  });

  it.each(DTYPES)('%s: binary\'s gradient in place over a GPUBuffer of an odd count keeps the last word\'s other half', async (dtype) => {
    const values = Float32Array.from({ length: 9 }, (_, i) => 3 * Math.cos(i));
    const bits = encodeHalf(values, dtype);
    const words = new Uint16Array(10);
    words.set(bits);
    words[9] = 0x1234;
    const buffer = gpuBuffer(device!, words);
    const labels = { data: Float32Array.from({ length: 9 }, (_, i) => i % 2), shape: [9] };
    try {
      const { grad } = await ce.binary({ data: buffer, shape: [9], dtype }, labels, { grad: true, gradInPlace: true });
      const reference = binaryCrossEntropyReference({ data: bits, shape: [9], dtype }, labels, { grad: true });
      expect(compareArrays(decodeHalf(grad, dtype), reference.grad!, { ...TOLERANCES.grad, dtype }).ok).toBe(true);
      const after = await readHalves(buffer);
      expect(Array.from(after.subarray(0, 9))).toEqual(Array.from(grad));
      expect(after[9]).toBe(0x1234);
    } finally {
      buffer.destroy();
    }
  });

  it.each(DTYPES)('%s: the same inputs give bit-identical results', async (dtype) => {
    const c = toHalfCase(buildCase({ shape: [33, 1001], targetKind: 'classIndex', reduction: 'mean', weighted: true,
      labelSmoothing: 0.1, ignoredFraction: 0.1, values: 'pm88', seed: 9, grad: true }), dtype);
    const first = await ce.forward(c.logits, c.target, c.options);
    const second = await ce.forward(c.logits, c.target, c.options);
    expect(Object.is(first.loss, second.loss)).toBe(true);
    expect(Array.from(second.grad!)).toEqual(Array.from(first.grad!));
  });

  /** Edge values of each dtype, as bit patterns, and class indices 0 for every row. */
  function edgeRows(dtype: HalfDtype): { name: string; row: number[] }[] {
    const bits = (values: number[]) => values.map((v) => bitsOf(v, dtype));
    const rows = [
      { name: 'a -inf mask', row: bits([1, -Infinity, 2, -Infinity, 0.5]) },
      { name: 'every class but the target masked', row: bits([0.25, -Infinity, -Infinity, -Infinity, -Infinity]) },
      { name: 'values near zero', row: bits([0, -0, 2 ** -20, -(2 ** -20), 2 ** -13]) },
    ];
    if (dtype === 'float16') {
      rows.push({ name: '±65504', row: [0x7bff, 0xfbff, 0x7bff, 0, 0x3c00] });
      rows.push({ name: 'subnormals', row: [0x0001, 0x03ff, 0x8001, 0x0200, 0x0000] });
      rows.push({ name: 'the largest subnormal and smallest normal', row: [0x03ff, 0x0400, 0x83ff, 0x8400, 0x0401] });
    } else {
      rows.push({ name: 'near +3e38', row: [0x7f7f, 0x7f7e, 0x7f70, 0x7f60, 0x7f7f] });
      rows.push({ name: 'near -3e38', row: [0xff60, 0xff7f, 0xff7e, 0xff70, 0xff7f] });
      rows.push({ name: 'the smallest normals', row: [0x0080, 0x8080, 0x0100, 0x0081, 0x0000] });
    }
    return rows;
  }

  it.each(DTYPES.flatMap((dtype) => edgeRows(dtype).map((edge) => ({ dtype, ...edge }))))(
    '$dtype edge values: $name', async ({ dtype, row }) => {
      const logits = { data: Uint16Array.from(row), shape: [1, row.length], dtype };
      const target = { data: new Int32Array([0]), shape: [1] };
      for (const options of [{ grad: true }, { grad: true, labelSmoothing: 0.3 }, { grad: true, gradDtype: 'float32' as const }]) {
        const gpu = await ce.forward(logits, target, options);
        expectMatchesReference(gpu, crossEntropyReference(logits, target, options), JSON.stringify(options));
      }
    });

  it.each(DTYPES)('%s: a NaN bit pattern makes its row\'s loss NaN, and +inf its row\'s loss not finite', async (dtype) => {
    const nan = dtype === 'float16' ? 0x7e01 : 0x7fc1;
    const inf = dtype === 'float16' ? 0x7c00 : 0x7f80;
    const one = bitsOf(1, dtype);
    const logits = { data: Uint16Array.from([one, nan, one, one, inf, one, one, one, one]), shape: [3, 3], dtype };
    const target = { data: new Int32Array([0, 0, 0]), shape: [3] };
    const gpu = await ce.forward(logits, target, { reduction: 'none' });
    expect(gpu.loss[0]).toBeNaN();
    expect(Number.isFinite(gpu.loss[1])).toBe(false);
    expect(gpu.loss[2]).toBeCloseTo(Math.log(3), 6);
  });

  it.each(DTYPES)('%s: row statistics of vocabulary shards merge into the loss of the whole', async (dtype) => {
    const c = toHalfCase(buildCase({ shape: [5, 301], targetKind: 'classIndex', reduction: 'mean', weighted: false,
      labelSmoothing: 0, ignoredFraction: 0.2, values: 'normal', seed: 21 }), dtype);
    const column = (from: number, to: number) => {
      const out = new Uint16Array(5 * (to - from));
      for (let r = 0; r < 5; r++) out.set(c.logits.data.subarray(r * 301 + from, r * 301 + to), r * (to - from));
      return out;
    };
    const shards = [];
    for (const [from, to] of [[0, 151], [151, 301]] as const) {
      shards.push(await ce.rowStatistics({ data: column(from, to), shape: [5, to - from], dtype }, c.target,
        { classOffset: from }));
    }
    const loss = lossFromRowStatistics(mergeRowStatistics(shards), { reduction: 'mean', labelSmoothing: 0.1 });
    const reference = crossEntropyReference(c.logits, c.target, { labelSmoothing: 0.1 });
    expect(compareArrays(loss as number, reference.loss as number, TOLERANCES.rowLoss).ok).toBe(true);
  });

  it.each(DTYPES.flatMap((dtype) => [[7], [3, 5], [4, 6]].flatMap((shape) =>
    (['mean', 'none'] as Reduction[]).map((reduction) => ({ dtype, shape, reduction })))))(
    'binary, $dtype, $shape, $reduction: loss and gradient in the input\'s dtype and in f32', async ({ dtype, shape, reduction }) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, (_, i) => 4 * Math.sin(i * 1.7));
      const logits = { data: encodeHalf(values, dtype), shape, dtype };
      const labels = { data: Float32Array.from({ length: size }, (_, i) => (i % 3) / 2), shape };
      for (const gradDtype of [dtype, 'float32'] as const) {
        const options = { reduction, grad: true, gradDtype, posWeight: new Float32Array(shape.at(-1)!).fill(2) };
        const gpu = await ce.binary(logits, labels, options);
        const reference = binaryCrossEntropyReference(logits, labels, options);
        expect(compareArrays(gpu.loss, reference.loss, TOLERANCES.rowLoss).ok).toBe(true);
        const grad = gradDtype === 'float32' ? gpu.grad as Float32Array : decodeHalf(gpu.grad as Uint16Array, dtype);
        const check = compareArrays(grad, reference.grad!, { ...TOLERANCES.grad, dtype: gradDtype });
        expect(check.ok, `${gradDtype}: ${JSON.stringify(check.mismatches)}`).toBe(true);
      }
    });
});

describe.skipIf(!device)('bad 16-bit input: a clear error before any GPU work', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device! });
  });
  afterAll(() => ce?.destroy());

  const bits = encodeHalf([1, 2, 3, 4, 5, 6], 'float16');
  const target = { data: new Int32Array([0, 1]), shape: [2] };
  const cases: { name: string; call: () => Promise<unknown>; error: typeof TypeError; message: RegExp }[] = [
    { name: 'a Uint16Array without dtype', call: () => ce.forward({ data: bits, shape: [2, 3] }, target), error: TypeError,
      message: /logits\.data is a Uint16Array but logits\.dtype is 'float32' \(or absent\): say how its 16 bits are read, with dtype 'float16' or 'bfloat16'/ },
    { name: 'a 16-bit dtype with a Float32Array', call: () => ce.forward({ data: new Float32Array(6), shape: [2, 3], dtype: 'bfloat16' },
      target), error: TypeError, message: /logits\.data must be a Uint16Array of bfloat16 bit patterns or a GPUBuffer for logits\.dtype 'bfloat16', got Float32Array \(encodeHalf rounds/ },
    { name: 'an unknown dtype', call: () => ce.forward({ data: bits, shape: [2, 3], dtype: 'float8' as never }, target),
      error: TypeError, message: /logits\.dtype must be one of 'float32', 'float16', 'bfloat16', got string "float8"$/ },
    { name: 'a dtype by another name', call: () => ce.forward({ data: bits, shape: [2, 3], dtype: 'bf16' as never }, target),
      error: TypeError, message: /got string "bf16"; did you mean 'bfloat16'\?/ },
    { name: 'a 16-bit gradDtype for f32 logits', call: () => ce.forward({ data: new Float32Array(6), shape: [2, 3] }, target,
      { grad: true, gradDtype: 'bfloat16' as never }), error: RangeError,
      message: /options\.gradDtype is 'bfloat16' but the logits are f32, whose gradient is f32: drop gradDtype/ },
    { name: 'a 16-bit weight', call: () => ce.forward({ data: bits, shape: [2, 3], dtype: 'float16' }, target,
      { weight: encodeHalf([1, 1, 1], 'float16') as never }), error: TypeError,
      message: /options\.weight must be a Float32Array or GPUBuffer, got Uint16Array \(only the logits may be 16-bit\)/ },
    { name: 'a 16-bit gradOutput', call: () => ce.forward({ data: bits, shape: [2, 3], dtype: 'float16' }, target,
      { reduction: 'none', grad: true, gradOutput: encodeHalf([1, 1], 'float16') as never }), error: TypeError,
      message: /options\.gradOutput must be a Float32Array or GPUBuffer, got Uint16Array \(only the logits may be 16-bit\)/ },
    { name: 'a 16-bit target', call: () => ce.forward({ data: bits, shape: [2, 3], dtype: 'float16' },
      { data: new Float32Array(6), shape: [2, 3], dtype: 'float16' } as never), error: TypeError,
      message: /target\.dtype must be 'float32' or absent, got string "float16": only the logits may be 16-bit/ },
    { name: 'a gradDtype other than the logits\' or f32', call: () => ce.forward({ data: bits, shape: [2, 3], dtype: 'float16' },
      target, { grad: true, gradDtype: 'bfloat16' }), error: RangeError,
      message: /options\.gradDtype must be the logits' dtype \('float16'\) or 'float32', got 'bfloat16'/ },
    { name: 'a gradDtype without grad', call: () => ce.forward({ data: bits, shape: [2, 3], dtype: 'float16' }, target,
      { gradDtype: 'float32' }), error: RangeError, message: /options\.gradDtype needs options\.grad: true/ },
    { name: 'an f32 gradient in place over 16-bit logits', call: () => ce.forwardGpu({ data: bits, shape: [2, 3],
      dtype: 'float16' }, target, { grad: true, gradInPlace: true, gradDtype: 'float32' }), error: RangeError,
      message: /options\.gradInPlace writes the gradient over the logits, in their dtype \('float16'\): it cannot be options\.gradDtype 'float32'/ },
    { name: 'a Float16Array-like given as bfloat16', call: () => ce.forward({ data: new Int16Array(6) as never, shape: [2, 3],
      dtype: 'bfloat16' }, target), error: TypeError, message: /logits\.data must be a Uint16Array of bfloat16 bit patterns/ },
  ];

  it.each(cases)('$name', async ({ call, error, message }) => {
    const before = ce.gpuMemory();
    await expect(call()).rejects.toThrow(error);
    await expect(call()).rejects.toThrow(message);
    expect(ce.gpuMemory()).toEqual(before);
  });

  it('packed 16-bit logits in a GPUBuffer without dtype: the error says to give it', async () => {
    const buffer = device!.createBuffer({ size: 12, usage: 0x80 });
    try {
      await expect(ce.forward({ data: buffer, shape: [2, 3] }, target)).rejects.toThrow(
        'logits.data is a GPUBuffer of 12 bytes but logits.shape [2, 3] needs 24 (4 bytes an f32 value; for 16-bit '
        + 'values packed two per word, give logits.dtype)');
    } finally {
      buffer.destroy();
    }
  });

  it('compareWithReference says what to use for binary cross-entropy; decodeHalf says a Float32Array holds values', () => {
    const labels = { data: new Float32Array(6), shape: [6] };
    const reference = binaryCrossEntropyReference({ data: bits, shape: [6], dtype: 'float16' }, labels, { grad: true });
    expect(() => compareWithReference({ loss: 0 }, reference as never)).toThrow(
      /compareWithReference: reference must be what crossEntropyReference returns \(for binary cross-entropy, compare with compareArrays/);
    expect(() => decodeHalf(new Float32Array(2) as never, 'float16')).toThrow(/holds its values already/);
  });

  it('a 16-bit GPUBuffer too small for its packed words', async () => {
    const buffer = device!.createBuffer({ size: 8, usage: 0x80 });
    try {
      await expect(ce.forward({ data: buffer, shape: [2, 5], dtype: 'float16' }, target)).rejects.toThrow(
        /logits\.data is a GPUBuffer of 8 bytes but logits\.shape \[2, 5\] of float16 \(packed two per word\) needs 20/);
    } finally {
      buffer.destroy();
    }
  });

  it('the references take the same dtypes and reject the same input', () => {
    expect(() => crossEntropyReference({ data: bits, shape: [2, 3] }, target)).toThrow(/logits\.data is a Uint16Array but logits\.dtype is 'float32'/);
    expect(() => binaryCrossEntropyReference({ data: bits, shape: [6] }, { data: new Float32Array(6), shape: [6] }))
      .toThrow(/logits\.data is a Uint16Array but logits\.dtype is 'float32'/);
  });
});
