/**
 * The linear head's matrix products (matmul.wgsl through src/gpu/matmul.ts): logits = H · Wᵀ
 * (+ bias), dH = G · W and dW (+)= Gᵀ · H against a float64 matmul on the CPU, on awkward shapes
 * (1, primes, just over a block, rows not a multiple of 4 long) that take each of the four kernels
 * (vec4 or scalar reads of each operand). Outputs are filled with NaN before each run, so an
 * element the kernel did not write fails.
 *
 * Tolerance: a dot product of K f32 products summed in f32 in any order is within
 * γ_K · Σ|a_k b_k| of the exact value, γ_K = K u / (1 - K u), u = 2⁻²⁴ (Higham, Accuracy and
 * Stability of Numerical Algorithms, §3.1; products included). So |Δ| ≤ c · K' · 2⁻²⁴ · S with
 * c = 1.01 (1, and the 1 / (1 - K u) factor, under 1.01 for K ≤ 10⁵), K' = K + 2 (the bias, and
 * the addition onto what an accumulating output holds, are one rounding each, counted as terms)
 * and S = Σ|a_k b_k| + |bias| + |what was accumulated onto|. The float64 reference's own error is
 * some 10⁹ times smaller. Integer inputs small enough that every sum is exact in f32 are then
 * compared exactly: a term left out or counted twice cannot hide inside the tolerance there.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BufferUsage, MapMode } from '../../src/gpu/constants.js';
import { encodeDispatches, type PreparedDispatch } from '../../src/gpu/dispatch.js';
import {
  gradInputProduct, gradWeightProduct, logitsProduct, matmulKernel, matmulUniform, partialSum, planMatmul, prepareMatmul,
  type LinearShape, type MatmulPlan, type MatmulProblem,
} from '../../src/gpu/matmul.js';
import { kernelsFor, type Kernels } from '../../src/gpu/pipelines.js';
import { uniformBlocks } from '../../src/gpu/uniforms.js';
import { Random } from '../../problems/random.js';
import { gpuBuffer } from '../helpers/gpu-inputs.js';
import { requireDevice } from '../helpers/webgpu-node.js';
import { decodeHalf, encodeHalf, type HalfDtype } from '../../src/half-precision.js';

const device = await requireDevice();

const U = 2 ** -24;
const C = 1.01;

/** The row stride of a strided operand of `problem`: as given, else its stored rows' length. */
function strideOf(problem: MatmulProblem, name: 'a' | 'b' | 'out'): number {
  const length = name === 'a' ? (problem.aTransposed ? problem.m : problem.k)
    : name === 'b' ? (problem.bTransposed ? problem.k : problem.p) : problem.p;
  return problem.strides?.[name] ?? length;
}

/** Elements from the start of a strided operand to the end of its last row. */
function extentOf(problem: MatmulProblem, name: 'a' | 'b' | 'out'): number {
  const [rows, length] = name === 'a' ? (problem.aTransposed ? [problem.k, problem.m] : [problem.m, problem.k])
    : name === 'b' ? (problem.bTransposed ? [problem.p, problem.k] : [problem.k, problem.p]) : [problem.m, problem.p];
  return (rows - 1) * strideOf(problem, name) + length;
}

/**
 * op(A) · op(B) (+ bias) (+ old) in float64, and per element S = Σ|a_k b_k| + |bias| + |old|: A and
 * B read at the problem's offsets and strides; the result and `old` dense [m, p].
 */
function reference(problem: MatmulProblem, a: ArrayLike<number>, b: ArrayLike<number>, bias?: Float32Array,
  old?: Float32Array): { value: Float64Array; magnitude: Float64Array } {
  const { m, p, k } = problem;
  const aOffset = problem.offsets?.a ?? 0;
  const bOffset = problem.offsets?.b ?? 0;
  const [aStride, bStride] = [strideOf(problem, 'a'), strideOf(problem, 'b')];
  const [aRow, aK] = problem.aTransposed ? [1, aStride] : [aStride, 1];
  const [bK, bCol] = problem.bTransposed ? [1, bStride] : [bStride, 1];
  const value = new Float64Array(m * p);
  const magnitude = new Float64Array(m * p);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < p; j++) {
      let sum = 0;
      let abs = 0;
      let ai = aOffset + i * aRow;
      let bj = bOffset + j * bCol;
      for (let kk = 0; kk < k; kk++, ai += aK, bj += bK) {
        const term = a[ai]! * b[bj]!;
        sum += term;
        abs += Math.abs(term);
      }
      const extra = (bias ? bias[(problem.offsets?.bias ?? 0) + j]! : 0) + (old ? old[i * p + j]! : 0);
      value[i * p + j] = sum + extra;
      magnitude[i * p + j] = abs + Math.abs(bias ? bias[(problem.offsets?.bias ?? 0) + j]! : 0)
        + Math.abs(old ? old[i * p + j]! : 0);
    }
  }
  return { value, magnitude };
}

function randomValues(count: number, random: Random, integers: boolean): Float32Array {
  return Float32Array.from({ length: count }, () => (integers ? random.int(17) - 8 : random.uniform(-1, 1)));
}

const buffers: GPUBuffer[] = [];

/** A buffer holding `data` (16-bit data padded to a whole word with zeros). */
function upload(data: Float32Array | Uint16Array): GPUBuffer {
  const buffer = gpuBuffer(device!, data);
  buffers.push(buffer);
  return buffer;
}

/** An output of `count` elements filled with NaN (or with `initial`). */
function output(count: number, initial?: Float32Array): GPUBuffer {
  return upload(initial ?? new Float32Array(count).fill(NaN));
}

async function download(buffer: GPUBuffer, count: number): Promise<Float32Array> {
  const staging = device!.createBuffer({ size: count * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const encoder = device!.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, count * 4);
  device!.queue.submit([encoder.finish()]);
  await staging.mapAsync(MapMode.READ);
  const copy = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return copy;
}

function destroyBuffers(): void {
  for (const buffer of buffers.splice(0)) buffer.destroy();
}

let kernels: Kernels;

/** One product to run: its plan and buffers. */
interface Run {
  readonly plan: MatmulPlan;
  readonly a: GPUBuffer;
  readonly b: GPUBuffer;
  readonly bias?: GPUBuffer;
  readonly out: GPUBuffer;
}

/** Runs `runs` in order in one compute pass (each sees what the previous ones wrote). */
async function runAll(runs: readonly Run[]): Promise<void> {
  const params = uniformBlocks(device!, device!.limits.minUniformBufferOffsetAlignment, (size, usage) => {
    const buffer = device!.createBuffer({ size, usage });
    buffers.push(buffer);
    return buffer;
  }, runs.map((run) => matmulUniform(run.plan)));
  const dispatches: PreparedDispatch[] = [];
  for (const [i, run] of runs.entries()) {
    const kernel = await matmulKernel(kernels, run.plan);
    dispatches.push(prepareMatmul(device!, kernel, run.plan, params[i]!, run));
  }
  const encoder = device!.createCommandEncoder();
  encodeDispatches(encoder, 'matmul-test', dispatches);
  device!.pushErrorScope('validation');
  device!.queue.submit([encoder.finish()]);
  const error = await device!.popErrorScope();
  expect(error?.message).toBeUndefined();
}

function plan(problem: MatmulProblem): MatmulPlan {
  return planMatmul(problem, device!.limits);
}

/** WebGPU's default limits. */
const LIMITS = { maxComputeWorkgroupsPerDimension: 65535, minStorageBufferOffsetAlignment: 256,
  maxStorageBufferBindingSize: 2 ** 27 };

/** Expects `got` within the tolerance of the reference (or equal to it, `exact`); every element written. */
function expectClose(label: string, problem: MatmulProblem, got: Float32Array,
  expected: { value: Float64Array; magnitude: Float64Array }, exact: boolean): void {
  const terms = problem.k + 2;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const error = Math.abs(got[i]! - expected.value[i]!);
    const bound = exact ? 0 : C * terms * U * expected.magnitude[i]!;
    if (!(error <= bound)) {
      expect.fail(`${label}: element ${i} (row ${Math.floor(i / problem.p)}, column ${i % problem.p}) is ${got[i]}, `
        + `expected ${expected.value[i]} within ${bound}`);
    }
    worst = Math.max(worst, bound === 0 ? 0 : error / bound);
  }
  expect(worst, label).toBeLessThanOrEqual(1);
}

const SIZES = [1, 2, 3, 4, 5, 7, 13, 17, 33, 64, 65, 127];

/**
 * [n, v, d] triples: each size in each position against two others, sizes over a block and not a
 * multiple of 4 beside multiples of 4, so each product takes each kernel.
 */
const SHAPES: LinearShape[] = [
  ...SIZES.map((s, i) => ({ n: s, v: SIZES[(i + 3) % SIZES.length]!, d: SIZES[(i + 7) % SIZES.length]! })),
  ...SIZES.map((s, i) => ({ n: SIZES[(i + 5) % SIZES.length]!, v: s, d: SIZES[(i + 2) % SIZES.length]! })),
  ...SIZES.map((s, i) => ({ n: SIZES[(i + 9) % SIZES.length]!, v: SIZES[(i + 4) % SIZES.length]!, d: s })),
  { n: 1, v: 1, d: 1 }, { n: 4, v: 4, d: 4 }, { n: 5, v: 5, d: 5 }, { n: 127, v: 127, d: 127 },
];

describe('planMatmul', () => {
  it('reads an operand through vec4s where its stored rows and offset are multiples of 4', () => {
    const kernel = (problem: MatmulProblem) => planMatmul(problem, LIMITS).kernel;
    expect(kernel(logitsProduct({ n: 3, v: 5, d: 8 }, false))).toBe('matmul');
    expect(kernel(logitsProduct({ n: 3, v: 5, d: 7 }, false))).toBe('matmulScalar');
    expect(kernel(logitsProduct({ n: 3, v: 5, d: 8 }, false, { h: 2 }))).toBe('matmulVec4B');
    expect(kernel(gradInputProduct({ n: 3, v: 8, d: 5 }, false))).toBe('matmulVec4A');   // G [3, 8], W [8, 5]
    expect(kernel(gradInputProduct({ n: 3, v: 5, d: 8 }, false))).toBe('matmulVec4B');
    expect(kernel(gradWeightProduct({ n: 3, v: 8, d: 8 }, true))).toBe('matmul');       // G [3, 8], H [3, 8]
    expect(kernel(gradWeightProduct({ n: 3, v: 6, d: 8 }, true))).toBe('matmulVec4B');
  });

  it('has one invocation per 4 × 4 block, folded, and the uniform block of the shape', () => {
    const planned = planMatmul(logitsProduct({ n: 5, v: 9, d: 3 }, true, { bias: 7, logits: 4 }), LIMITS);
    expect(planned.invocations).toBe(2 * 3);
    expect(planned.groups).toEqual([1, 1]);
    expect(planned.params).toEqual({ m: 5, p: 9, k: 3, blocks_p: 3, a_offset: 0, b_offset: 0, bias_offset: 7,
      out_offset: 4, a_stride: 3, b_stride: 3, out_stride: 9, split_k: 3, splits: 1, out_split_step: 45 });
    expect(planned.ranges).toEqual({ a: { offset: 0, size: 60 }, b: { offset: 0, size: 108 },
      bias: { offset: 0, size: 64 }, out: { offset: 0, size: 196 } });
    expect(planned.variant).toEqual({ aTransposed: false, bTransposed: true, accumulate: false, bias: true,
      aStorage: 'float32', bStorage: 'float32' });
    const wide = planMatmul(logitsProduct({ n: 4096, v: 4096, d: 1 }, false), { ...LIMITS, maxComputeWorkgroupsPerDimension: 1000 });
    expect(wide.invocations).toBe(1024 * 1024);
    expect(wide.groups).toEqual([964, 17]);   // 16384 workgroups in 17 rows
  });

  it('binds each operand from the aligned offset at or below it, the rest of its offset in the uniform block', () => {
    // W's rows 1000..1999 of 768: bytes 3,072,000 on, bound from 3,072,000 (a multiple of 256).
    const planned = planMatmul(logitsProduct({ n: 3, v: 1000, d: 768 }, false, { h: 101, w: 1000 * 768 }), LIMITS);
    expect(planned.ranges.a).toEqual({ offset: 256, size: (101 + 3 * 768) * 4 - 256 });
    expect(planned.ranges.b).toEqual({ offset: 1000 * 768 * 4, size: 1000 * 768 * 4 });
    expect(planned.ranges.bias).toBeUndefined();
    expect([planned.params.a_offset, planned.params.b_offset]).toEqual([101 - 64, 0]);
    expect(planned.kernel).toBe('matmulVec4B');   // H at an offset of 37 within its binding: not vec4s
  });

  it('binds a strided operand to the end of its last row; vec4s need its stride a multiple of 4 too', () => {
    // Logits of the vocabulary slice [16, 32) of [3, 37], W [V, 8].
    const logits = planMatmul(logitsProduct({ n: 3, v: 16, d: 8 }, true, { w: 16 * 8, bias: 16, logits: 16 },
      { logits: 37 }), LIMITS);
    expect(logits.ranges.out).toEqual({ offset: 0, size: (16 + 2 * 37 + 16) * 4 });
    expect(logits.ranges.b).toEqual({ offset: 512, size: 16 * 8 * 4 });
    expect([logits.params.a_stride, logits.params.b_stride, logits.params.out_stride]).toEqual([8, 8, 37]);
    expect(logits.kernel).toBe('matmul');
    const kernel = (problem: MatmulProblem) => planMatmul(problem, LIMITS).kernel;
    expect(kernel(gradInputProduct({ n: 3, v: 16, d: 8 }, false, { g: 16 }, { g: 40 }))).toBe('matmul');
    expect(kernel(gradInputProduct({ n: 3, v: 16, d: 8 }, false, { g: 16 }, { g: 37 }))).toBe('matmulVec4B');
    expect(kernel(gradInputProduct({ n: 3, v: 6, d: 8 }, false, {}, { g: 8 }))).toBe('matmulVec4B');   // rows of 6
    expect(kernel(gradWeightProduct({ n: 3, v: 16, d: 8 }, true, { g: 16 }, { g: 40 }))).toBe('matmul');
    expect(kernel(gradWeightProduct({ n: 3, v: 16, d: 8 }, true, { g: 16 }, { g: 37, h: 9 }))).toBe('matmulScalar');
    const dw = planMatmul(gradWeightProduct({ n: 3, v: 16, d: 8 }, true, { g: 16 }, { g: 37 }), LIMITS);
    expect(dw.ranges.a).toEqual({ offset: 0, size: (16 + 2 * 37 + 16) * 4 });
    expect(dw.params.a_stride).toBe(37);
  });

  it('reads 16-bit operands through their words, two a run where every run starts a word, three where not', () => {
    const planned = (problem: MatmulProblem) => planMatmul(problem, LIMITS);
    const both = planned({ ...logitsProduct({ n: 3, v: 5, d: 8 }, false), dtypes: { a: 'float16', b: 'float16' } });
    expect([both.kernel, both.variant.aStorage, both.variant.bStorage, both.variant.halfFormat])
      .toEqual(['matmulScalar', 'halfAligned', 'halfAligned', 'float16']);
    const oddOffset = planned({ ...logitsProduct({ n: 3, v: 5, d: 8 }, false, { h: 3 }), dtypes: { a: 'bfloat16', b: 'bfloat16' } });
    expect([oddOffset.variant.aStorage, oddOffset.variant.bStorage, oddOffset.variant.halfFormat])
      .toEqual(['half', 'halfAligned', 'bfloat16']);
    const oddRows = planned({ ...logitsProduct({ n: 3, v: 5, d: 7 }, false), dtypes: { a: 'float16', b: 'float16' } });
    expect([oddRows.variant.aStorage, oddRows.variant.bStorage]).toEqual(['half', 'half']);
    const dh = planned({ ...gradInputProduct({ n: 3, v: 8, d: 8 }, false), dtypes: { b: 'bfloat16' } });
    expect([dh.kernel, dh.variant.aStorage, dh.variant.bStorage]).toEqual(['matmulVec4A', 'float32', 'halfAligned']);
    const f32 = planned(logitsProduct({ n: 3, v: 5, d: 8 }, false));
    expect(f32.variant.halfFormat).toBeUndefined();
  });

  it('binds a 16-bit operand from the aligned byte at or below it to the end of the word holding its last element', () => {
    // H [3, 7] float16 from element 131 (byte 262): bound from byte 256, its elements 3.. of the
    // binding, to byte 2 · (131 + 21) = 304.
    const planned = planMatmul({ ...logitsProduct({ n: 3, v: 5, d: 7 }, false, { h: 131 }), dtypes: { a: 'float16' } }, LIMITS);
    expect(planned.ranges.a).toEqual({ offset: 256, size: 48 });
    expect(planned.params.a_offset).toBe(3);
    // W [5, 7] bfloat16 from element 0: 35 values end inside word 17, bound to its end.
    const w = planMatmul({ ...logitsProduct({ n: 3, v: 5, d: 7 }, false), dtypes: { b: 'bfloat16' } }, LIMITS);
    expect(w.ranges.b).toEqual({ offset: 0, size: 72 });
    // G [3, 37] float32, W's slice [16, 37) of [37, 7] float16 rows: W from element 112 (byte 224).
    const dh = planMatmul({ ...gradInputProduct({ n: 3, v: 21, d: 7 }, false, { g: 16, w: 16 * 7 }, { g: 37 }),
      dtypes: { b: 'float16' } }, LIMITS);
    expect(dh.ranges.b).toEqual({ offset: 0, size: 37 * 7 * 2 + 2 });
    expect(dh.params.b_offset).toBe(112);
  });

  it('rejects empty or fractional dimensions, negative offsets and operands wider than a binding', () => {
    expect(() => planMatmul(logitsProduct({ n: 0, v: 2, d: 2 }, false), LIMITS)).toThrow(/m must be a positive integer/);
    expect(() => planMatmul(logitsProduct({ n: 2, v: 2, d: 1.5 }, false), LIMITS)).toThrow(/k must be/);
    expect(() => planMatmul(logitsProduct({ n: 2, v: 2, d: 2 }, false, { w: -1 }), LIMITS)).toThrow(/offset of b/);
    expect(() => planMatmul(logitsProduct({ n: 2, v: 4, d: 5 }, false, {}, { h: 4 }), LIMITS))
      .toThrow(/stride of a must be an integer ≥ its rows' length \(5\), not 4/);
    expect(() => planMatmul(gradWeightProduct({ n: 2, v: 4, d: 5 }, false, {}, { dw: 4.5 }), LIMITS)).toThrow(/stride of out/);
    expect(() => planMatmul({ ...logitsProduct({ n: 2, v: 2, d: 2 }, false), dtypes: { a: 'float16', b: 'bfloat16' } }, LIMITS))
      .toThrow(/16-bit operands must share one format, not float16 and bfloat16/);
    expect(() => planMatmul({ ...logitsProduct({ n: 2, v: 2, d: 2 }, false), dtypes: { a: 'half' as 'float16' } }, LIMITS))
      .toThrow(/dtype of a must be 'float32', 'float16' or 'bfloat16', not half/);
    // The strided extent counts: 1000 rows of stride 50,000.
    expect(() => planMatmul(gradInputProduct({ n: 1000, v: 768, d: 8 }, false, {}, { g: 50_000 }), LIMITS))
      .toThrow(/a spans 199803072 bytes/);
    expect(() => planMatmul(logitsProduct({ n: 2, v: 50_000, d: 768 }, false), LIMITS))
      .toThrow(/b spans 153600000 bytes, over this device's maxStorageBufferBindingSize \(134217728\)/);
  });
});

describe.skipIf(!device)('matmul on the GPU', () => {
  beforeAll(async () => {
    kernels = await kernelsFor(device!);
  });

  /**
   * Runs the three products of `shape` (logits with and without a bias, dH onto NaN and onto
   * values, dW in one product and over two chunks of rows) and checks each against the reference.
   */
  async function checkShape(shape: LinearShape, seed: number, integers: boolean): Promise<Set<string>> {
    const { n, v, d } = shape;
    const random = new Random(seed);
    const h = randomValues(n * d, random, integers);
    const w = randomValues(v * d, random, integers);
    const g = randomValues(n * v, random, integers);
    const bias = randomValues(v, random, integers);
    const dhOld = randomValues(n * d, random, integers);
    const [hBuffer, wBuffer, gBuffer, biasBuffer] = [upload(h), upload(w), upload(g), upload(bias)];
    const split = Math.floor(n / 2);
    const first: LinearShape = { n: split, v, d };
    const rest: LinearShape = { n: n - split, v, d };
    const products = {
      logits: logitsProduct(shape, false),
      logitsBias: logitsProduct(shape, true),
      dh: gradInputProduct(shape, false),
      dhAccumulated: gradInputProduct(shape, true),
      dw: gradWeightProduct(shape, false),
    };
    const outputs = {
      logits: output(n * v), logitsBias: output(n * v), dh: output(n * d), dhAccumulated: output(n * d, dhOld),
      dw: output(v * d), dwChunks: output(v * d),
    };
    const runs: Run[] = [
      { plan: plan(products.logits), a: hBuffer, b: wBuffer, out: outputs.logits },
      { plan: plan(products.logitsBias), a: hBuffer, b: wBuffer, bias: biasBuffer, out: outputs.logitsBias },
      { plan: plan(products.dh), a: gBuffer, b: wBuffer, out: outputs.dh },
      { plan: plan(products.dhAccumulated), a: gBuffer, b: wBuffer, out: outputs.dhAccumulated },
      { plan: plan(products.dw), a: gBuffer, b: hBuffer, out: outputs.dw },
    ];
    // dW over rows [0, split) then [split, n): the first chunk writes, the second adds (with n = 1
    // the one chunk writes); the chunks are read at their offsets in G and H.
    if (split > 0) runs.push({ plan: plan(gradWeightProduct(first, false)), a: gBuffer, b: hBuffer, out: outputs.dwChunks });
    runs.push({ plan: plan(gradWeightProduct(rest, split > 0, { g: split * v, h: split * d })), a: gBuffer, b: hBuffer,
      out: outputs.dwChunks });
    await runAll(runs);

    const label = `[${n}, ${v}, ${d}]${integers ? ' integers' : ''}`;
    const check = async (name: keyof typeof outputs, problem: MatmulProblem, a: Float32Array, b: Float32Array,
      extra: { bias?: Float32Array; old?: Float32Array } = {}) => {
      const got = await download(outputs[name], problem.m * problem.p);
      expectClose(`${label} ${name}`, problem, got, reference(problem, a, b, extra.bias, extra.old), integers);
    };
    await check('logits', products.logits, h, w);
    await check('logitsBias', products.logitsBias, h, w, { bias });
    await check('dh', products.dh, g, w);
    await check('dhAccumulated', products.dhAccumulated, g, w, { old: dhOld });
    await check('dw', products.dw, g, h);
    // The chunks' sum against the one product over all rows (its K counts the added rounding).
    await check('dwChunks', products.dw, g, h);
    destroyBuffers();
    return new Set(runs.map((run) => `${run.plan.problem.aTransposed ? 'dW' : run.plan.problem.bTransposed ? 'logits' : 'dH'} ${run.plan.kernel}`));
  }

  it('all three products on awkward shapes, each product through each kernel its layouts allow', async () => {
    const taken = new Set<string>();
    for (const [i, shape] of SHAPES.entries()) {
      for (const taking of await checkShape(shape, 100 + i, false)) taken.add(taking);
    }
    expect([...taken].sort()).toEqual([
      'dH matmul', 'dH matmulScalar', 'dH matmulVec4A', 'dH matmulVec4B',
      'dW matmul', 'dW matmulScalar', 'dW matmulVec4A', 'dW matmulVec4B',
      'logits matmul', 'logits matmulScalar',
    ]);
  });

  it('exactly, with integer inputs whose every sum is exact in f32', async () => {
    for (const [i, shape] of SHAPES.entries()) await checkShape(shape, 200 + i, true);
  });

  it.each([
    { n: 64, v: 1000, d: 768 },
    { n: 33, v: 1003, d: 769 },
  ])('larger: [$n, $d] × [$v, $d]ᵀ and its gradients', async (shape) => {
    await checkShape(shape, 300 + shape.d, false);
    await checkShape(shape, 400 + shape.d, true);
  });

  it.each([
    { n: 5, v: 8, d: 12, offsets: { a: 2, b: 0, bias: 3, out: 5 } },
    { n: 17, v: 13, d: 8, offsets: { a: 4, b: 1, bias: 1, out: 3 } },
    { n: 7, v: 64, d: 33, offsets: { a: 3, b: 4, bias: 0, out: 1 } },
    // Past the binding offset alignment (64 elements where it is 256 bytes): bound from inside.
    { n: 9, v: 20, d: 16, offsets: { a: 70, b: 132, bias: 65, out: 203 } },
  ])('operands and output inside larger buffers, at offsets $offsets ([$n, $v, $d])', async ({ n, v, d, offsets }) => {
    const random = new Random(n * v * d);
    const problems = [
      { ...logitsProduct({ n, v, d }, true), offsets },
      { ...gradInputProduct({ n, v, d }, false), offsets: { ...offsets, bias: 0 } },
      { ...gradWeightProduct({ n, v, d }, false), offsets: { ...offsets, bias: 0 } },
    ];
    for (const problem of problems) {
      const planned = plan(problem);
      const padded = (count: number, at: number) => randomValues(at + count + 3, random, false);
      const a = padded(problem.m * problem.k, offsets.a);
      const b = padded(problem.k * problem.p, offsets.b);
      const bias = padded(problem.p, offsets.bias);
      const count = problem.m * problem.p;
      const out = output(offsets.out + count + 3);
      await runAll([{ plan: planned, a: upload(a), b: upload(b), bias: problem.bias ? upload(bias) : undefined, out }]);
      const got = await download(out, offsets.out + count + 3);
      const label = `${planned.kernel} [${problem.m}, ${problem.p}, ${problem.k}]`;
      expectClose(label, problem, got.subarray(offsets.out, offsets.out + count),
        reference(problem, a, b, problem.bias ? bias : undefined), false);
      // Nothing written before or after the output.
      expect([...got.subarray(0, offsets.out), ...got.subarray(offsets.out + count)].every(Number.isNaN), label).toBe(true);
    }
    destroyBuffers();
  });

  /**
   * A buffer holding a strided operand of `problem` at its offset: `values` (dense rows) in its
   * rows, `gap` everywhere else (before it, between its rows and 3 elements after).
   */
  function stridedBuffer(problem: MatmulProblem, name: 'a' | 'b' | 'out', values: Float32Array,
    gap: (i: number) => number): Float32Array {
    const offset = problem.offsets?.[name] ?? 0;
    const stride = strideOf(problem, name);
    const data = Float32Array.from({ length: offset + extentOf(problem, name) + 3 }, (_, i) => gap(i));
    const length = name === 'out' ? problem.p : name === 'a' ? (problem.aTransposed ? problem.m : problem.k)
      : (problem.bTransposed ? problem.k : problem.p);
    for (let row = 0; row < values.length / length; row++) {
      data.set(values.subarray(row * length, (row + 1) * length), offset + row * stride);
    }
    return data;
  }

  /** The dense [m, p] output of `problem` read out of its strided buffer, and the rest (untouched). */
  function unstrided(problem: MatmulProblem, data: Float32Array): { inside: Float32Array; outside: number[] } {
    const offset = problem.offsets?.out ?? 0;
    const stride = strideOf(problem, 'out');
    const inside = new Float32Array(problem.m * problem.p);
    const written = new Set<number>();
    for (let i = 0; i < problem.m; i++) {
      for (let j = 0; j < problem.p; j++) {
        inside[i * problem.p + j] = data[offset + i * stride + j]!;
        written.add(offset + i * stride + j);
      }
    }
    return { inside, outside: [...data.keys()].filter((i) => !written.has(i)) };
  }

  it.each([
    { n: 5, v: 8, d: 12, extra: { a: 1, b: 3, out: 2 }, offsets: { a: 0, b: 0, bias: 0, out: 0 } },
    { n: 7, v: 16, d: 8, extra: { a: 4, b: 4, out: 4 }, offsets: { a: 4, b: 8, bias: 1, out: 3 } },
    { n: 9, v: 13, d: 17, extra: { a: 7, b: 0, out: 1 }, offsets: { a: 3, b: 1, bias: 2, out: 5 } },
    { n: 6, v: 20, d: 16, extra: { a: 0, b: 4, out: 3 }, offsets: { a: 70, b: 132, bias: 0, out: 203 } },
    { n: 33, v: 36, d: 40, extra: { a: 8, b: 12, out: 5 }, offsets: { a: 0, b: 0, bias: 0, out: 0 } },
  ])('row strides of rows + $extra at offsets $offsets ([$n, $v, $d]): gaps never read, never written',
    async ({ n, v, d, extra, offsets }) => {
      const random = new Random(n * v + d);
      const shape = { n, v, d };
      const dense = (count: number) => randomValues(count, random, false);
      const base = [logitsProduct(shape, true), gradInputProduct(shape, true), gradWeightProduct(shape, false)];
      for (const product of base) {
        const strides = { a: strideOf(product, 'a') + extra.a, b: strideOf(product, 'b') + extra.b,
          out: strideOf(product, 'out') + extra.out };
        const problem: MatmulProblem = { ...product, offsets: product.bias ? offsets : { ...offsets, bias: 0 }, strides };
        const planned = plan(problem);
        const [aValues, bValues] = [dense(problem.m * problem.k), dense(problem.k * problem.p)];
        // NaN around the operands: a read outside their rows would turn a result to NaN.
        const a = stridedBuffer(problem, 'a', aValues, () => NaN);
        const b = stridedBuffer(problem, 'b', bValues, () => NaN);
        const bias = randomValues(offsets.bias + problem.p + 3, random, false);
        const old = problem.accumulate ? dense(problem.m * problem.p) : new Float32Array(problem.m * problem.p).fill(NaN);
        // Around the output, values it must keep.
        const outInitial = stridedBuffer(problem, 'out', old, (i) => 1000 + i);
        const out = output(outInitial.length, outInitial);
        await runAll([{ plan: planned, a: upload(a), b: upload(b), bias: problem.bias ? upload(bias) : undefined, out }]);
        const data = await download(out, outInitial.length);
        const got = unstrided(problem, data);
        const label = `${planned.kernel} [${problem.m}, ${problem.p}, ${problem.k}] strides ${JSON.stringify(strides)}`;
        expectClose(label, problem, got.inside, reference(problem, a, b, problem.bias ? bias : undefined,
          problem.accumulate ? old : undefined), false);
        expect(got.outside.filter((i) => data[i] !== outInitial[i]), `${label}: elements changed outside the output`)
          .toEqual([]);
      }
      destroyBuffers();
    });

  it.each([
    { n: 5, vocab: 37, d: 7, cut: 16 },
    { n: 9, vocab: 37, d: 8, cut: 16 },
    { n: 6, vocab: 40, d: 12, cut: 16 },
  ])('vocabulary slices [0, $cut), [$cut, $vocab) of [$n, $vocab], d = $d: each product in place, the sum over slices',
    async ({ n, vocab, d, cut }) => {
      const random = new Random(vocab * 100 + n * 10 + d);
      const shape = { n, v: vocab, d };
      const h = randomValues(n * d, random, false);
      const w = randomValues(vocab * d, random, false);
      const g = randomValues(n * vocab, random, false);
      const bias = randomValues(vocab, random, false);
      const [hBuffer, wBuffer, gBuffer, biasBuffer] = [upload(h), upload(w), upload(g), upload(bias)];
      const slices = [{ first: 0, v: cut }, { first: cut, v: vocab - cut }];
      const label = `[${n}, ${vocab}, ${d}]`;
      const whole = { logits: logitsProduct(shape, true), dh: gradInputProduct(shape, false),
        dw: gradWeightProduct(shape, false) };

      // Logits: each slice writes its columns of [n, vocab], and only those.
      const logits = output(n * vocab);
      let before: Float32Array = new Float32Array(n * vocab).fill(NaN);
      for (const slice of slices) {
        const problem = logitsProduct({ n, v: slice.v, d }, true, { w: slice.first * d, bias: slice.first, logits: slice.first },
          { logits: vocab });
        await runAll([{ plan: plan(problem), a: hBuffer, b: wBuffer, bias: biasBuffer, out: logits }]);
        const got = await download(logits, n * vocab);
        for (let i = 0; i < n * vocab; i++) {
          const column = i % vocab;
          if (column >= slice.first && column < slice.first + slice.v) continue;
          if (!Object.is(got[i], before[i])) expect.fail(`${label} logits slice at ${slice.first}: element ${i} changed`);
        }
        before = got;
      }
      expectClose(`${label} logits`, whole.logits, before, reference(whole.logits, h, w, bias), false);

      // dH over the slices: the first writes, the second adds.
      const dh = output(n * d);
      for (const [s, slice] of slices.entries()) {
        const problem = gradInputProduct({ n, v: slice.v, d }, s > 0, { g: slice.first, w: slice.first * d }, { g: vocab });
        await runAll([{ plan: plan(problem), a: gBuffer, b: wBuffer, out: dh }]);
      }
      expectClose(`${label} dH`, whole.dh, await download(dh, n * d), reference(whole.dh, g, w), false);

      // dW: each slice its rows of dW, the second over two chunks of rows of G and H.
      const dw = output(vocab * d);
      const split = Math.floor(n / 2);
      const first = slices[0]!;
      const second = slices[1]!;
      await runAll([{ plan: plan(gradWeightProduct({ n, v: first.v, d }, false, { g: 0, dw: 0 }, { g: vocab })), a: gBuffer,
        b: hBuffer, out: dw }]);
      const afterFirst = await download(dw, vocab * d);
      expect(afterFirst.subarray(first.v * d).every(Number.isNaN), `${label} dW rows past the first slice`).toBe(true);
      await runAll([
        { plan: plan(gradWeightProduct({ n: split, v: second.v, d }, false, { g: second.first, dw: second.first * d },
          { g: vocab })), a: gBuffer, b: hBuffer, out: dw },
        { plan: plan(gradWeightProduct({ n: n - split, v: second.v, d }, true,
          { g: split * vocab + second.first, h: split * d, dw: second.first * d }, { g: vocab })), a: gBuffer, b: hBuffer, out: dw },
      ]);
      const got = await download(dw, vocab * d);
      expect(new Uint32Array(got.buffer, 0, first.v * d)).toEqual(new Uint32Array(afterFirst.buffer, 0, first.v * d));
      expectClose(`${label} dW`, whole.dw, got, reference(whole.dw, g, h), false);
      destroyBuffers();
    });

  /** 16-bit layouts: dense, even offsets and strides (runs start words), odd ones (half-word starts). */
  const HALF_LAYOUTS = [
    { layout: 'dense', offsets: {}, extra: { a: 0, b: 0, out: 0 } },
    { layout: 'even offsets and strides', offsets: { a: 2, b: 6, bias: 1, out: 1 }, extra: { a: 2, b: 4, out: 1 } },
    { layout: 'odd offsets and strides', offsets: { a: 3, b: 1, bias: 0, out: 2 }, extra: { a: 1, b: 3, out: 0 } },
    { layout: 'offsets past the binding alignment', offsets: { a: 131, b: 260, bias: 0, out: 70 }, extra: { a: 3, b: 2, out: 0 } },
  ];

  const HALF_SHAPES: LinearShape[] = [
    { n: 5, v: 7, d: 9 }, { n: 8, v: 16, d: 12 }, { n: 13, v: 33, d: 17 }, { n: 4, v: 5, d: 1 }, { n: 1, v: 3, d: 2 },
    { n: 65, v: 40, d: 64 },
  ];

  /** Values across the 16-bit formats' common range: uniform in ±[2⁻⁸, 2⁸) (before rounding). */
  function spreadValues(count: number, random: Random): Float32Array {
    return Float32Array.from({ length: count }, () => random.uniform(-1, 1) * 2 ** (random.int(17) - 8));
  }

  /** float16 subnormals: multiples of 2⁻²⁴ below 2⁻¹⁴, either sign. */
  function subnormalValues(count: number, random: Random): Float32Array {
    return Float32Array.from({ length: count }, () => (1 + random.int(1023)) * 2 ** -24 * (random.next() < 0.5 ? -1 : 1));
  }

  /**
   * Runs `problem` on A and B of `dense` values stored as the problem's dtypes say (16-bit: rounded
   * to the format, NaN in the gaps), and checks the output against the float64 product of the
   * values stored, and that nothing around the output changed.
   */
  async function checkStored(problem: MatmulProblem, dense: { a: Float32Array; b: Float32Array }, random: Random): Promise<void> {
    const planned = plan(problem);
    const stored = (name: 'a' | 'b') => {
      const values = stridedBuffer(problem, name, dense[name], () => NaN);
      const dtype = problem.dtypes?.[name] ?? 'float32';
      if (dtype === 'float32') return { data: values, exact: values };
      const bits = encodeHalf(values, dtype);
      return { data: bits, exact: decodeHalf(bits, dtype) };
    };
    const [a, b] = [stored('a'), stored('b')];
    const bias = randomValues((problem.offsets?.bias ?? 0) + problem.p, random, false);
    const old = problem.accumulate ? randomValues(problem.m * problem.p, random, false)
      : new Float32Array(problem.m * problem.p).fill(NaN);
    const outInitial = stridedBuffer(problem, 'out', old, (i) => 1000 + i);
    const out = output(outInitial.length, outInitial);
    await runAll([{ plan: planned, a: upload(a.data), b: upload(b.data), bias: problem.bias ? upload(bias) : undefined, out }]);
    const data = await download(out, outInitial.length);
    const got = unstrided(problem, data);
    const label = `${planned.kernel} ${planned.variant.aStorage}/${planned.variant.bStorage} `
      + `[${problem.m}, ${problem.p}, ${problem.k}] `
      + JSON.stringify({ offsets: problem.offsets, strides: problem.strides, dtypes: problem.dtypes });
    expectClose(label, problem, got.inside, reference(problem, a.exact, b.exact, problem.bias ? bias : undefined,
      problem.accumulate ? old : undefined), false);
    expect(got.outside.filter((i) => data[i] !== outInitial[i]), `${label}: elements changed outside the output`).toEqual([]);
  }

  /** The products of `shape` with 16-bit operands of `dtype`, as the linear head uses them and more. */
  function halfProducts(shape: LinearShape, dtype: HalfDtype): { name: string; problem: MatmulProblem }[] {
    return [
      { name: 'logits, H and W 16-bit', problem: { ...logitsProduct(shape, true), dtypes: { a: dtype, b: dtype } } },
      { name: 'logits, W 16-bit', problem: { ...logitsProduct(shape, false), dtypes: { b: dtype } } },
      { name: 'logits, H 16-bit', problem: { ...logitsProduct(shape, false), dtypes: { a: dtype, b: 'float32' } } },
      { name: 'dH, W 16-bit', problem: { ...gradInputProduct(shape, true), dtypes: { b: dtype } } },
      { name: 'dW, H 16-bit', problem: { ...gradWeightProduct(shape, false), dtypes: { b: dtype } } },
      { name: 'dW, G and H 16-bit', problem: { ...gradWeightProduct(shape, true), dtypes: { a: dtype, b: dtype } } },
    ];
  }

  describe.each(['float16', 'bfloat16'] as const)('16-bit operands, %s', (dtype) => {
    it.each(HALF_LAYOUTS)('every product at $layout, against float64 on the values stored', async ({ offsets, extra }) => {
      for (const [s, shape] of HALF_SHAPES.entries()) {
        const random = new Random(500 + s);
        for (const { problem: product } of halfProducts(shape, dtype)) {
          const strides = { a: strideOf(product, 'a') + extra.a, b: strideOf(product, 'b') + extra.b,
            out: strideOf(product, 'out') + extra.out };
          const problem: MatmulProblem = { ...product, offsets: { ...offsets, bias: product.bias ? offsets.bias : 0 }, strides };
          const dense = { a: spreadValues(problem.m * problem.k, random), b: spreadValues(problem.k * problem.p, random) };
          await checkStored(problem, dense, random);
        }
        destroyBuffers();
      }
    });

    it('sums over chunks of rows that start inside a word, and two dW chunks from H at a half-word offset', async () => {
      const shape = { n: 9, v: 11, d: 7 };
      const random = new Random(77);
      const h = spreadValues(shape.n * shape.d, random);
      const g = spreadValues(shape.n * shape.v, random);
      const hBits = encodeHalf(h, dtype);
      const hExact = decodeHalf(hBits, dtype);
      const hBuffer = upload(hBits);
      const gBuffer = upload(g);
      const dw = output(shape.v * shape.d);
      // Rows [0, 4) then [4, 9): H's second chunk starts at element 28, G's at 44; then rows 5..8 of
      // H (element 35, a high half) in a third product over the rows [5, 9) once more, which the
      // reference counts twice.
      await runAll([
        { plan: plan({ ...gradWeightProduct({ ...shape, n: 4 }, false), dtypes: { b: dtype } }), a: gBuffer, b: hBuffer, out: dw },
        { plan: plan({ ...gradWeightProduct({ ...shape, n: 5 }, true, { g: 4 * shape.v, h: 4 * shape.d }), dtypes: { b: dtype } }),
          a: gBuffer, b: hBuffer, out: dw },
        { plan: plan({ ...gradWeightProduct({ ...shape, n: 4 }, true, { g: 5 * shape.v, h: 5 * shape.d }), dtypes: { b: dtype } }),
          a: gBuffer, b: hBuffer, out: dw },
      ]);
      // Rows 5..8 twice: G and H with those rows repeated, as one product of 13 rows.
      const twice = (data: ArrayLike<number>, width: number) => Float64Array.from([...Array.from(data),
        ...Array.from(data).slice(5 * width)]);
      const whole = gradWeightProduct({ ...shape, n: 13 }, false);
      expectClose(`${dtype} dW over chunks`, { ...whole, k: 13 + 2 }, await download(dw, shape.v * shape.d),
        reference(whole, twice(g, shape.v), twice(hExact, shape.d)), false);
      destroyBuffers();
    });

    it.skipIf(dtype !== 'float16')('float16 subnormals are converted exactly', async () => {
      const random = new Random(91);
      for (const [s, shape] of HALF_SHAPES.slice(0, 4).entries()) {
        for (const { problem } of halfProducts(shape, dtype)) {
          // Every 16-bit operand subnormal: a flushed value would change a product by all of it.
          // Shapes 0 and 2 have odd rows, 1 even ones (runs start words), 3 odd offsets.
          const values = (name: 'a' | 'b', count: number) => ((problem.dtypes?.[name] ?? 'float32') === 'float32'
            ? spreadValues(count, random) : subnormalValues(count, random));
          const odd = s === 3 ? { offsets: { a: 1, b: 3 }, strides: { a: strideOf(problem, 'a') + 1 } } : {};
          await checkStored({ ...problem, ...odd }, { a: values('a', problem.m * problem.k), b: values('b', problem.k * problem.p) },
            random);
        }
        destroyBuffers();
      }
    });
  });

  it.each([
    // [n, v, d, splitK]: runs of k ending inside a step, a last run of one step, K not a multiple
    // of 4, each kernel's layouts (d a multiple of 4 or not; G's stride v odd or not).
    [5, 37, 6, 8], [13, 100, 8, 32], [3, 1001, 5, 256], [8, 64, 4, 4], [1, 9, 1, 4],
  ])('split K, [%i, %i, %i] in runs of %i: each run\'s partial product, then their sum in run order', async (n, v, d, splitK) => {
    const shape = { n, v, d };
    const random = new Random(n * 1000 + v);
    const g = randomValues(n * v, random, false);
    const w = randomValues(v * d, random, false);
    const splits = Math.ceil(v / splitK);
    const partials = output(splits * n * d);
    const ones = upload(new Float32Array(splits).fill(1));
    const dh = output(n * d);
    const split = { ...gradInputProduct(shape, false), splitK };
    const [gBuffer, wBuffer] = [upload(g), upload(w)];
    expect(plan(split).invocations).toBe(Math.ceil(n / 4) * Math.ceil(d / 4) * splits);
    await runAll([
      { plan: plan(split), a: gBuffer, b: wBuffer, out: partials },
      { plan: plan(partialSum(n, d, splits, false)), a: ones, b: partials, out: dh },
    ]);
    const got = await download(partials, splits * n * d);
    for (let r = 0; r < splits; r++) {
      // Run r is G's columns [r·splitK, …) times W's rows there: a product of its own.
      const k = Math.min(splitK, v - r * splitK);
      const run: MatmulProblem = { ...gradInputProduct({ n, v: k, d }, false, { g: r * splitK, w: r * splitK * d }), strides: { a: v } };
      expectClose(`run ${r}`, run, got.subarray(r * n * d, (r + 1) * n * d), reference(run, g, w), false);
    }
    // The sum: K + splits terms' rounding at most.
    const whole = gradInputProduct(shape, false);
    expectClose('sum of the runs', { ...whole, k: v + splits }, await download(dh, n * d), reference(whole, g, w), false);
    destroyBuffers();
  });

  it('refuses a split K that is not a multiple of 4, or with accumulate', () => {
    const shape = { n: 4, v: 40, d: 4 };
    expect(() => plan({ ...gradInputProduct(shape, false), splitK: 6 })).toThrow(/splitK must be a positive multiple of 4/);
    expect(() => plan({ ...gradInputProduct(shape, true), splitK: 8 })).toThrow(/without accumulate/);
  });

  it('reruns are bit-identical', async () => {
    const shape = { n: 65, v: 300, d: 130 };
    const random = new Random(7);
    const h = upload(randomValues(shape.n * shape.d, random, false));
    const w = upload(randomValues(shape.v * shape.d, random, false));
    const g = upload(randomValues(shape.n * shape.v, random, false));
    const bias = upload(randomValues(shape.v, random, false));
    const results: Float32Array[][] = [];
    for (let rerun = 0; rerun < 2; rerun++) {
      const logits = output(shape.n * shape.v);
      const dh = output(shape.n * shape.d);
      const dw = output(shape.v * shape.d);
      await runAll([
        { plan: plan(logitsProduct(shape, true)), a: h, b: w, bias, out: logits },
        { plan: plan(gradInputProduct(shape, false)), a: g, b: w, out: dh },
        { plan: plan(gradWeightProduct({ ...shape, n: 40 }, false)), a: g, b: h, out: dw },
        { plan: plan(gradWeightProduct({ ...shape, n: 25 }, true, { g: 40 * shape.v, h: 40 * shape.d })), a: g, b: h, out: dw },
      ]);
      results.push([await download(logits, shape.n * shape.v), await download(dh, shape.n * shape.d),
        await download(dw, shape.v * shape.d)]);
    }
    for (let i = 0; i < 3; i++) {
      expect(new Uint32Array(results[1]![i]!.buffer)).toEqual(new Uint32Array(results[0]![i]!.buffer));
    }
    destroyBuffers();
  });

  it('refuses buffers smaller than the plan reads or writes, and a bias the plan lacks', async () => {
    const planned = plan(logitsProduct({ n: 3, v: 4, d: 5 }, false));
    const kernel = await matmulKernel(kernels, planned);
    const [params] = uniformBlocks(device!, device!.limits.minUniformBufferOffsetAlignment, (size, usage) => {
      const buffer = device!.createBuffer({ size, usage });
      buffers.push(buffer);
      return buffer;
    }, [matmulUniform(planned)]);
    const h = upload(new Float32Array(15));
    const w = upload(new Float32Array(19));
    const wWhole = upload(new Float32Array(20));
    const out = output(12);
    expect(() => prepareMatmul(device!, kernel, planned, params!, { a: h, b: w, out })).toThrow(/b needs 80 bytes, its buffer has 76/);
    expect(() => prepareMatmul(device!, kernel, planned, params!, { a: h, b: wWhole, bias: h, out })).toThrow(/has no bias/);
    expect(() => prepareMatmul(device!, kernel, planned, params!, { a: h, b: wWhole, out: h })).toThrow(/out must be a buffer of its own/);
    expect(prepareMatmul(device!, kernel, planned, params!, { a: h, b: wWhole, out })).not.toBeNull();
    destroyBuffers();
  });
});
