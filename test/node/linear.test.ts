/**
 * The linear head on the GPU (ce.linear, ce.linearGpu) against its float64 reference: every
 * class-index option, bias, leading dimensions, the gradients each only when asked, rows in many
 * chunks, host and GPU inputs, bit-identical reruns, its errors, and its memory.
 *
 * Tolerance (docs/accuracy.md, the linear head): for unit-scale inputs and D ≤ 256 the loss within
 * 1e-5 + 1e-5·|e| and each gradient element within 1e-5·max|e| + 1e-4·|e| of the reference; each
 * logit's rounding grows with D (|Δz| ≤ c·D·2⁻²⁴·Σ|h_k w_k|), so for larger D the same form is
 * scaled by D / 256.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, encodeHalf, type HalfDtype, type LinearReferenceResult } from '../../src/index.js';
import { linearCrossEntropyReference, type LinearReferenceOptions } from '../../src/linear-reference.js';
import type { LinearOptions, LinearResult } from '../../src/types.js';
import { Random } from '../../problems/random.js';
import { gpuBuffer } from '../helpers/gpu-inputs.js';
import { linearMismatch } from '../helpers/linear-tolerance.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const found = await requireDevice();
// Where there is no device (outside CI) every suite below is skipped.
const device = found as GPUDevice;
let ce: CrossEntropy;
beforeAll(async () => {
  if (found) ce = await CrossEntropy.create({ device, poisonOutputs: true });
});
afterAll(() => ce?.destroy());

interface LinearCase {
  readonly hidden: { data: Float32Array; shape: number[] };
  readonly classifier: { data: Float32Array; shape: number[] };
  readonly target: { data: Int32Array; shape: number[] };
  readonly bias: Float32Array;
  readonly weight: Float32Array;
  readonly gradOutput: Float32Array;
}

/** Unit-scale logits: hidden ~ N(0, 1), classifier ~ N(0, 1/D). */
function makeCase(rowShape: number[], depth: number, classes: number, seed: number, ignoreIndex = -100): LinearCase {
  const random = new Random(seed);
  const rows = rowShape.reduce((a, b) => a * b, 1);
  const scale = 1 / Math.sqrt(depth);
  return {
    hidden: { data: Float32Array.from({ length: rows * depth }, () => random.normal()), shape: [...rowShape, depth] },
    classifier: { data: Float32Array.from({ length: classes * depth }, () => random.normal() * scale), shape: [classes, depth] },
    target: { data: Int32Array.from({ length: rows }, (_, i) => (i % 5 === 3 ? ignoreIndex : random.int(classes))),
      shape: rowShape },
    bias: Float32Array.from({ length: classes }, () => random.normal() * 0.5),
    weight: Float32Array.from({ length: classes }, () => random.uniform(0.25, 2)),
    gradOutput: Float32Array.from({ length: rows }, () => random.normal()),
  };
}

/** Checks a GPU result against the reference within the linear head's tolerance. */
function expectClose(result: LinearResult, reference: LinearReferenceResult, depth: number, label = '',
  halfGrads?: HalfDtype): void {
  const mismatch = linearMismatch(result, reference, depth, halfGrads);
  expect(mismatch, `${label}: ${mismatch}`).toBeNull();
}

function optionsOf(c: LinearCase, set: string): { gpu: LinearOptions; reference: LinearReferenceOptions } {
  switch (set) {
    case 'mean':
      return { gpu: {}, reference: {} };
    case 'mean, bias, weight, ignoreIndex 3':
      // The case's ignored rows (-100) become class 3's: ignoreIndex 3 leaves them out.
      return { gpu: { bias: c.bias, weight: c.weight, ignoreIndex: 3 }, reference: { bias: c.bias, weight: c.weight, ignoreIndex: 3 } };
    case 'sum, label smoothing, bias':
      return { gpu: { reduction: 'sum', labelSmoothing: 0.1, bias: c.bias },
        reference: { reduction: 'sum', labelSmoothing: 0.1, bias: c.bias } };
    case 'none with gradOutput, zLoss, softcap':
      return { gpu: { reduction: 'none', gradOutput: c.gradOutput, zLoss: 1e-3, softcap: 5 },
        reference: { reduction: 'none', gradOutput: c.gradOutput, zLoss: 1e-3, softcap: 5 } };
    case 'mean, weight, smoothing, zLoss':
      return { gpu: { weight: c.weight, labelSmoothing: 0.2, zLoss: 1e-4 },
        reference: { weight: c.weight, labelSmoothing: 0.2, zLoss: 1e-4 } };
    default:
      throw new Error(set);
  }
}

const OPTION_SETS = ['mean', 'mean, bias, weight, ignoreIndex 3', 'sum, label smoothing, bias',
  'none with gradOutput, zLoss, softcap', 'mean, weight, smoothing, zLoss'];

describe.skipIf(!found)('ce.linear against the float64 reference', () => {
  // Short rows (scanned whole), rows a multiple of 4 (vec4), odd rows (unaligned), rows in chunks
  // of classes, D not a multiple of 4, one row, one class.
  const shapes: [number[], number, number][] = [
    [[6], 8, 10], [[5], 7, 48], [[9], 16, 67], [[3], 12, 2051], [[2, 3], 5, 64], [[1], 3, 1], [[13], 33, 129],
  ];
  for (const [rowShape, depth, classes] of shapes) {
    for (const set of OPTION_SETS) {
      it(`[${rowShape}] × D ${depth} × V ${classes}: ${set}`, async () => {
        const c = makeCase(rowShape, depth, classes, rowShape[0]! * 131 + depth * 7 + classes, set.includes('ignoreIndex 3') ? 3 : -100);
        const { gpu, reference } = optionsOf(c, set);
        const hasBias = gpu.bias !== undefined;
        const result = await ce.linear(c.hidden, c.classifier, c.target, { ...gpu, grad: true });
        const expected = linearCrossEntropyReference(c.hidden, c.classifier, c.target, { ...reference, grad: true });
        expect(result.grad?.bias !== undefined).toBe(hasBias);
        expectClose(result, expected, depth);
      });
    }
  }
});

describe.skipIf(!found)('chunks of rows', () => {
  it('many chunks (a small memoryBudget) agree with one chunk and with the reference, every option set', async () => {
    for (const set of OPTION_SETS) {
      const c = makeCase([300], 24, 1000, 5, set.includes('ignoreIndex 3') ? 3 : -100);
      const { gpu, reference } = optionsOf(c, set);
      const expected = linearCrossEntropyReference(c.hidden, c.classifier, c.target, { ...reference, grad: true });
      // 64 rows' logits per chunk: five chunks, the last of 44 rows.
      const chunked = await ce.linear(c.hidden, c.classifier, c.target, { ...gpu, grad: true, memoryBudget: 64 * 1000 * 4 });
      const whole = await ce.linear(c.hidden, c.classifier, c.target, { ...gpu, grad: true });
      expectClose(chunked, expected, 24, `${set} (chunked)`);
      expectClose(whole, expected, 24, `${set} (one chunk)`);
    }
  });

  it('reruns are bit-identical, chunked or not', async () => {
    const c = makeCase([200], 20, 333, 8);
    for (const memoryBudget of [64 * 333 * 4, undefined]) {
      const options = { bias: c.bias, weight: c.weight, labelSmoothing: 0.1, grad: true, memoryBudget } as const;
      const first = await ce.linear(c.hidden, c.classifier, c.target, options);
      const second = await ce.linear(c.hidden, c.classifier, c.target, options);
      expect(second.loss).toBe(first.loss);
      for (const name of ['hidden', 'classifier', 'bias'] as const) {
        expect(Buffer.from(second.grad![name]!.buffer).equals(Buffer.from(first.grad![name]!.buffer)), name).toBe(true);
      }
    }
  });
});

describe.skipIf(!found)('gradients only when asked', () => {
  const c = makeCase([7], 9, 50, 11);
  const requests = [
    { hidden: true }, { classifier: true }, { bias: true }, { hidden: true, bias: true }, { classifier: true, bias: true },
  ];
  for (const grad of requests) {
    it(`grad: ${JSON.stringify(grad)}`, async () => {
      const result = await ce.linear(c.hidden, c.classifier, c.target, { bias: c.bias, grad });
      const expected = linearCrossEntropyReference(c.hidden, c.classifier, c.target, { bias: c.bias, grad });
      expectClose(result, expected, 9);
    });
  }

  it('no gradient: the loss alone, and no gradient buffers made', async () => {
    ce.gpuMemoryPeak();
    const result = await ce.linear(c.hidden, c.classifier, c.target, { bias: c.bias });
    expect(result.grad).toBeUndefined();
    expectClose(result, linearCrossEntropyReference(c.hidden, c.classifier, c.target, { bias: c.bias }), 9);
    const run = await ce.linearGpu(c.hidden, c.classifier, c.target, { bias: c.bias });
    expect(run.grad).toBeUndefined();
    run.destroy();
  });

  it('a frozen classifier costs no d(classifier) memory', async () => {
    const big = makeCase([4], 64, 4096, 12);
    const peakOf = async (grad: LinearOptions['grad']) => {
      ce.destroy();
      ce = await CrossEntropy.create({ device });
      await ce.linear(big.hidden, big.classifier, big.target, { grad });
      return ce.gpuMemoryPeak().bytes;
    };
    const all = await peakOf(true);
    const hiddenOnly = await peakOf({ hidden: true });
    expect(all - hiddenOnly).toBeGreaterThanOrEqual(4096 * 64 * 4);
  });
});

describe.skipIf(!found)('GPU-resident inputs and results', () => {
  it('GPUBuffers in, linearGpu into a caller encoder, gradients left on the GPU', async () => {
    const c = makeCase([37], 12, 203, 21, 3);
    const owned = [c.hidden.data, c.classifier.data, c.target.data, c.bias, c.weight].map((d) => gpuBuffer(device, d));
    const [hidden, classifier, target, bias, weight] = owned as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
    const encoder = device.createCommandEncoder();
    const run = await ce.linearGpu({ data: hidden, shape: c.hidden.shape }, { data: classifier, shape: c.classifier.shape },
      { data: target, shape: c.target.shape }, { bias, weight, ignoreIndex: 3, grad: true, encoder });
    expect(run.grad?.hidden).toBeDefined();
    expect(run.grad?.classifier?.size).toBeGreaterThanOrEqual(203 * 12 * 4);
    expect(run.grad?.bias?.size).toBeGreaterThanOrEqual(203 * 4);
    device.queue.submit([encoder.finish()]);
    const result = await run.read();
    run.destroy();
    const expected = linearCrossEntropyReference(c.hidden, c.classifier, c.target,
      { bias: c.bias, weight: c.weight, ignoreIndex: 3, grad: true });
    expectClose(result, expected, 12);
    owned.forEach((b) => b.destroy());
  });

  it('an out-of-range class index in a GPUBuffer rejects when read, naming its position', async () => {
    const c = makeCase([2, 4], 6, 30, 22);
    c.target.data[5] = 30;
    const target = gpuBuffer(device, c.target.data);
    const run = await ce.linearGpu(c.hidden, c.classifier, { data: target, shape: c.target.shape }, { grad: true });
    await expect(run.read()).rejects.toThrow(/target\[1, 1\] = 30/);
    run.destroy();
    target.destroy();
  });

  it('a training loop keeps gpuMemory flat', async () => {
    const c = makeCase([64], 16, 100, 23);
    await ce.linear(c.hidden, c.classifier, c.target, { grad: true });
    const held = ce.gpuMemory();
    for (let i = 0; i < 20; i++) await ce.linear(c.hidden, c.classifier, c.target, { grad: true });
    expect(ce.gpuMemory()).toEqual(held);
  });
});

describe.skipIf(!found)('memory', () => {
  const rows = 512;
  const depth = 32;
  const classes = 3000;
  const memoryBudget = 1 << 20;
  const gradients = (rows * depth + classes * depth + classes) * 4;
  // Per row and per class: a few f32 records (losses, weights, summaries, reduction levels, uniform
  // blocks per chunk).
  const linearTerms = 64 * (rows + classes);
  const logits = rows * classes * 4;

  async function peakOf(call: (inputs: Record<string, { data: GPUBuffer; shape: number[] }>, bias: GPUBuffer) => Promise<void>) {
    const c = makeCase([rows], depth, classes, 31);
    const [hidden, classifier, target, bias] = [c.hidden.data, c.classifier.data, c.target.data, c.bias]
      .map((d) => gpuBuffer(device, d)) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
    ce.destroy();
    ce = await CrossEntropy.create({ device });
    ce.gpuMemoryPeak();
    await call({ hidden: { data: hidden, shape: c.hidden.shape }, classifier: { data: classifier, shape: c.classifier.shape },
      target: { data: target, shape: [rows] } }, bias);
    const peak = ce.gpuMemoryPeak().bytes;
    [hidden, classifier, target, bias].forEach((b) => b.destroy());
    return { peak, c };
  }

  it('linearGpu: the gradients, the budget and O(N + V), never the logits', async () => {
    let result: LinearResult | undefined;
    const { peak, c } = await peakOf(async (x, bias) => {
      const run = await ce.linearGpu(x.hidden!, x.classifier!, x.target!, { bias, grad: true, memoryBudget });
      result = { loss: (await run.readLoss()).loss };
      run.destroy();
    });
    expect(peak).toBeLessThanOrEqual(gradients + memoryBudget + linearTerms);
    expect(peak).toBeLessThan(gradients + logits / 4);
    expectClose(result!, linearCrossEntropyReference(c.hidden, c.classifier, c.target, { bias: c.bias }), depth);
  });

  it('linear: reading the gradients back adds one budget of staging at most', async () => {
    let result: LinearResult | undefined;
    const { peak, c } = await peakOf(async (x, bias) => {
      result = await ce.linear(x.hidden!, x.classifier!, x.target!, { bias, grad: true, memoryBudget });
    });
    expect(peak).toBeLessThanOrEqual(gradients + 2 * memoryBudget + linearTerms);
    expectClose(result!, linearCrossEntropyReference(c.hidden, c.classifier, c.target, { bias: c.bias, grad: true }), depth);
  });
});

describe.skipIf(!found)('errors before any GPU work', () => {
  const c = makeCase([4], 6, 10, 41);
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['classifier of another D', () => ce.linear(c.hidden, { data: new Float32Array(50), shape: [10, 5] }, c.target),
      /classifier.shape must be \[V, 6\]/],
    ['target of another shape', () => ce.linear(c.hidden, c.classifier, { data: new Int32Array(3), shape: [3] }),
      /target.shape must be hidden.shape without D, \[4\]/],
    ['probability targets', () => ce.linear(c.hidden, c.classifier, { data: new Float32Array(40) as never, shape: [4] }),
      /target.data must be an Int32Array/],
    ['target out of range', () => ce.linear(c.hidden, c.classifier, { data: Int32Array.from([0, 1, 10, 2]), shape: [4] }),
      /target\[2\] = 10 is out of bounds/],
    ['bias of another length', () => ce.linear(c.hidden, c.classifier, c.target, { bias: new Float32Array(9) }),
      /options.bias has 9 elements but the classifier has 10 classes/],
    ['a NaN bias', () => ce.linear(c.hidden, c.classifier, c.target, { bias: new Float32Array(10).fill(NaN) }),
      /options.bias\[0\] must be finite/],
    ['weight of another length', () => ce.linear(c.hidden, c.classifier, c.target, { weight: new Float32Array(3) }),
      /options.weight has 3 elements/],
    ['grad.bias without a bias', () => ce.linear(c.hidden, c.classifier, c.target, { grad: { bias: true } }),
      /options.grad.bias asks for the gradient of a bias, but options.bias is absent/],
    ['an unknown gradient', () => ce.linear(c.hidden, c.classifier, c.target, { grad: { weights: true } as never }),
      /options.grad: unknown gradient "weights"/],
    ['input', () => ce.linear(c.hidden, c.classifier, c.target, { input: 'probabilities' } as never),
      /CrossEntropy.linear.*input/],
    ['gradInPlace', () => ce.linear(c.hidden, c.classifier, c.target, { gradInPlace: true } as never),
      /gradInPlace/],
    ['encoder on linear()', () => ce.linear(c.hidden, c.classifier, c.target, { encoder: {} } as never),
      /encoder/],
    ['a negative memoryBudget', () => ce.linear(c.hidden, c.classifier, c.target, { memoryBudget: -1 }),
      /options.memoryBudget must be a positive number of bytes, got -1/],
    ['gradOutput with mean', () => ce.linear(c.hidden, c.classifier, c.target, { grad: true, gradOutput: new Float32Array(4) }),
      /options.gradOutput applies to reduction 'none' only/],
    ['a 1-D hidden', () => ce.linear({ data: new Float32Array(6), shape: [6] }, c.classifier, { data: new Int32Array(0), shape: [] }),
      /hidden.shape must be \[N, D\]/],
    ['16-bit hidden without a dtype', () => ce.linear({ data: new Uint16Array(24), shape: [4, 6] }, c.classifier, c.target),
      /hidden.data is a Uint16Array but hidden.dtype is 'float32'/],
  ];
  it.each(cases)('%s', async (_name, call, message) => {
    const before = ce.gpuMemory();
    await expect(call()).rejects.toThrow(message);
    expect(ce.gpuMemory()).toEqual(before);
  });
});

describe.skipIf(!found)('accuracy: the derived bound, up to D = 4096', () => {
  // docs/accuracy.md (the linear head): with u = 2⁻²⁴ and γ_K = 1.01·K·u,
  //   |Δz_nv| ≤ Δ_n = γ_{D+2} · max_v (Σ_k |h_nk w_vk| + |b_v|)
  //   |Δℓ_n|  ≤ 2Δ_n + §4's row tolerance
  //   |ΔG_nv| ≤ E_nv = k·2.01·Δ_n·p_nv + 1e-6 + 1e-4·|G_nv|       ('mean': k = 1 / the denominator)
  //   |Δ dH_nd| ≤ Σ_v E_nv |w_vd| + γ_{B + V/B} Σ_v |G_nv w_vd|     (B = 4096, or V if smaller)
  //   |Δ dW_vd| ≤ Σ_n E_nv |h_nd| + γ_{N} Σ_n |G_nv h_nd|
  //   |Δ db_v|  ≤ Σ_n E_nv + γ_{N} Σ_n |G_nv|
  const u = 2 ** -24;
  const gamma = (k: number) => 1.01 * k * u;
  for (const depth of [64, 256, 1024, 4096]) {
    it(`D = ${depth}: every error inside its bound`, async () => {
      const rows = 8;
      const classes = 300;
      const c = makeCase([rows], depth, classes, depth);
      c.target.data.forEach((y, i) => { if (y < 0) c.target.data[i] = i; });
      const result = await ce.linear(c.hidden, c.classifier, c.target, { bias: c.bias, grad: true });
      const reference = linearCrossEntropyReference(c.hidden, c.classifier, c.target, { bias: c.bias, grad: true });
      const h = c.hidden.data;
      const w = c.classifier.data;
      const k = 1 / rows;
      const bound = { hidden: new Float64Array(rows * depth), classifier: new Float64Array(classes * depth),
        bias: new Float64Array(classes) };
      let lossBound = 0;
      for (let n = 0; n < rows; n++) {
        const z = new Float64Array(classes);
        let worst = 0;
        for (let v = 0; v < classes; v++) {
          let sum = c.bias[v]!;
          let magnitude = Math.abs(c.bias[v]!);
          for (let d = 0; d < depth; d++) {
            sum += h[n * depth + d]! * w[v * depth + d]!;
            magnitude += Math.abs(h[n * depth + d]! * w[v * depth + d]!);
          }
          z[v] = sum;
          worst = Math.max(worst, magnitude);
        }
        const delta = gamma(depth + 2) * worst;
        const max = Math.max(...z);
        const total = z.reduce((acc, zv) => acc + Math.exp(zv - max), 0);
        const rowLoss = Math.log(total) + max - z[c.target.data[n]!]!;
        lossBound += k * (2 * delta + 1e-6 + 1e-5 * Math.abs(rowLoss));
        for (let v = 0; v < classes; v++) {
          const p = Math.exp(z[v]! - max) / total;
          const g = k * (p - (v === c.target.data[n] ? 1 : 0));
          const e = k * 2.01 * delta * p + 1e-6 + 1e-4 * Math.abs(g);
          bound.bias[v]! += e + gamma(rows) * Math.abs(g);
          for (let d = 0; d < depth; d++) {
            const wv = Math.abs(w[v * depth + d]!);
            const hv = Math.abs(h[n * depth + d]!);
            bound.hidden[n * depth + d]! += e * wv + gamma(Math.min(classes, 4096) + Math.ceil(classes / 4096)) * Math.abs(g) * wv;
            bound.classifier[v * depth + d]! += e * hv + gamma(rows) * Math.abs(g) * hv;
          }
        }
      }
      const lossError = Math.abs((result.loss as number) - (reference.loss as number));
      expect(lossError).toBeLessThanOrEqual(lossBound + 1e-5 * Math.abs(reference.loss as number));
      for (const name of ['hidden', 'classifier', 'bias'] as const) {
        const have = result.grad![name]!;
        const want = reference.grad![name]!;
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(have[i]! - want[i]!) / bound[name][i]!);
        expect(worst, `grad.${name}: the largest error over its bound`).toBeLessThanOrEqual(1);
      }
    });
  }
});

describe.skipIf(!found)('16-bit hidden states and classifier', () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    for (const [rowShape, depth, classes, gradDtype] of [
      [[5], 7, 67, undefined], [[2, 3], 16, 1030, undefined], [[9], 5, 40, 'float32'], [[130], 8, 50, undefined],
    ] as const) {
      it(`${dtype}: [${rowShape}] × D ${depth} × V ${classes}${gradDtype ? ', gradDtype float32' : ''}`, async () => {
        const c = makeCase([...rowShape], depth, classes, depth * 3 + classes);
        const hidden = { data: encodeHalf(c.hidden.data, dtype), shape: c.hidden.shape, dtype };
        const classifier = { data: encodeHalf(c.classifier.data, dtype), shape: c.classifier.shape, dtype };
        const options = { bias: c.bias, weight: c.weight, labelSmoothing: 0.05, grad: true } as const;
        // 130 rows in chunks of 64: the 16-bit d(hidden) is packed in one go, d(classifier) per slice.
        const result = await ce.linear(hidden, classifier, c.target, { ...options, memoryBudget: 64 * classes * 4,
          ...(gradDtype ? { gradDtype } : {}) });
        const reference = linearCrossEntropyReference(hidden, classifier, c.target, options);
        if (!gradDtype) {
          expect(result.grad!.hidden).toBeInstanceOf(Uint16Array);
          expect(result.grad!.bias).toBeInstanceOf(Float32Array);
        }
        expectClose(result, reference, depth, dtype, gradDtype ? undefined : dtype);
      });
    }
  }

  it('f32 hidden states with a float16 classifier, and GPUBuffers of packed values (odd counts)', async () => {
    const c = makeCase([3], 5, 9, 77);
    const classifierBits = encodeHalf(c.classifier.data, 'float16');
    const buffer = gpuBuffer(device, classifierBits);
    const classifier = { data: buffer, shape: c.classifier.shape, dtype: 'float16' as const };
    const result = await ce.linear(c.hidden, classifier, c.target, { grad: { hidden: true }, gradDtype: 'float32' });
    buffer.destroy();
    const reference = linearCrossEntropyReference(c.hidden, { ...c.classifier, data: classifierBits, dtype: 'float16' },
      c.target, { grad: { hidden: true } });
    expectClose(result, reference, 5);
  });

  it('16-bit hidden states and classifier of different formats are an error', async () => {
    const c = makeCase([2], 4, 6, 78);
    await expect(ce.linear({ ...c.hidden, data: encodeHalf(c.hidden.data, 'float16'), dtype: 'float16' },
      { ...c.classifier, data: encodeHalf(c.classifier.data, 'bfloat16'), dtype: 'bfloat16' }, c.target))
      .rejects.toThrow(/must share one format/);
  });
});

describe.skipIf(!found)('empty batches', () => {
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`no rows, reduction '${reduction}': PyTorch's loss, zero gradients`, async () => {
      const c = makeCase([0], 6, 10, 90);
      const result = await ce.linear(c.hidden, c.classifier, c.target, { bias: c.bias, reduction, grad: true });
      const expected = linearCrossEntropyReference(c.hidden, c.classifier, c.target, { bias: c.bias, reduction, grad: true });
      expectClose(result, expected, 6);
      expect(Array.from(result.grad!.classifier!).every((g) => Object.is(g, 0))).toBe(true);
      expect(Array.from(result.grad!.bias!).every((g) => Object.is(g, 0))).toBe(true);
    });
  }
});
