/**
 * The linear head's three products run through the library's own matmul kernels (src/gpu/matmul.ts,
 * driven as test/node/matmul.test.ts drives them), for the linear suite's candidates that are not
 * `ce.linear`: the matmul floor, the materialised path and the GFLOPS row. Rows go in chunks, as
 * the library's linear head cuts them: logits [n, v] = H · Wᵀ + bias, dH = G · W, dW += Gᵀ · H and
 * (where asked) db += Gᵀ · 1, with G read from the logits' buffer. dH is made as the linear head
 * makes it (src/gpu/encode-linear.ts): K split into runs written as partial products and summed in
 * run order where its plan says so (hiddenGradRuns), else summed in blocks of SUM_BLOCK classes.
 */
import type { Dtype } from '../src/index.js';
import { encodeDispatches, type PreparedDispatch } from '../src/gpu/dispatch.js';
import { SUM_BLOCK } from '../src/gpu/encode-linear.js';
import {
  gradInputProduct, gradWeightProduct, logitsProduct, matmulKernel, matmulUniform, partialSum, planMatmul, prepareMatmul,
  type LinearShape, type MatmulBuffers, type MatmulProblem,
} from '../src/gpu/matmul.js';
import type { Kernels } from '../src/gpu/pipelines.js';
import { uniformBlocks } from '../src/gpu/uniforms.js';

/** A product to run: what it computes and on which buffers. */
export interface ProductSpec {
  readonly problem: MatmulProblem;
  readonly buffers: MatmulBuffers;
}

/** Products planned, compiled and bound once; `encode` records them in order into one compute pass. */
export interface PreparedProducts {
  encode(encoder: GPUCommandEncoder): void;
  /** Bytes of the uniform buffer their parameters live in. */
  readonly uniformBytes: number;
  destroy(): void;
}

/** Plans, compiles and binds `specs` (their parameters packed into one uniform buffer it owns). */
export async function prepareProducts(device: GPUDevice, kernels: Kernels, specs: readonly ProductSpec[]): Promise<PreparedProducts> {
  const plans = specs.map((spec) => planMatmul(spec.problem, device.limits));
  let uniform: GPUBuffer | undefined;
  const params = uniformBlocks(device, device.limits.minUniformBufferOffsetAlignment, (size, usage) => {
    uniform = device.createBuffer({ label: 'bench:matmul-params', size, usage });
    return uniform;
  }, plans.map(matmulUniform));
  try {
    const dispatches: PreparedDispatch[] = [];
    for (const [i, plan] of plans.entries()) {
      dispatches.push(prepareMatmul(device, await matmulKernel(kernels, plan), plan, params[i]!, specs[i]!.buffers));
    }
    return {
      encode: (encoder) => encodeDispatches(encoder, 'bench:matmul', dispatches),
      uniformBytes: uniform!.size,
      destroy: () => uniform!.destroy(),
    };
  } catch (error) {
    uniform?.destroy();
    throw error;
  }
}

/** The buffers of the linear head's products: inputs, the logits (then G), and the gradients. */
export interface LinearBuffers {
  readonly hidden: GPUBuffer;
  readonly classifier: GPUBuffer;
  readonly bias?: GPUBuffer;
  /** Logits [n, v] ('full'), or one chunk's [chunkRows, v] ('chunk'), written then read as G. */
  readonly logits: GPUBuffer;
  readonly gradHidden: GPUBuffer;
  readonly gradClassifier: GPUBuffer;
  /** With `ones`: db accumulated as Gᵀ · 1, as the library does. */
  readonly gradBias?: GPUBuffer;
  /** A column of ones, at least as long as a chunk's rows and as dH's runs (for the partial sums). */
  readonly ones?: GPUBuffer;
  /** dH's partial products, where it is split (`hiddenRuns`). */
  readonly partials?: GPUBuffer;
}

/**
 * How dH of a chunk of `rows` rows is summed over the vocabulary: runs of that many classes, written
 * as partial products and summed (the library's hiddenGradRuns for one vocabulary slice), or null:
 * blocks of SUM_BLOCK classes, each added onto dH in order.
 */
export type HiddenRuns = (rows: number) => number | null;

/** dH of one chunk: split into partial products and their sum, or in blocks of SUM_BLOCK classes. */
function hiddenProducts(part: LinearShape, first: number, logitsAt: number, run: number | null, buffers: LinearBuffers,
  dtypes: { b: Dtype } | undefined): ProductSpec[] {
  const { n: rows, v, d } = part;
  if (run !== null) {
    const splits = Math.ceil(v / run);
    return [
      { problem: { ...withDtypes(gradInputProduct(part, false, { g: logitsAt }, { g: v }), dtypes), splitK: run },
        buffers: { a: buffers.logits, b: buffers.classifier, out: buffers.partials! } },
      { problem: partialSum(rows, d, splits, false, { out: first * d }),
        buffers: { a: buffers.ones!, b: buffers.partials!, out: buffers.gradHidden } },
    ];
  }
  const products: ProductSpec[] = [];
  for (let from = 0; from < v; from += SUM_BLOCK) {
    const block = { n: rows, v: Math.min(SUM_BLOCK, v - from), d };
    products.push({ problem: withDtypes(gradInputProduct(block, from > 0, { g: logitsAt + from, w: from * d, dh: first * d },
      { g: v }), dtypes), buffers: { a: buffers.logits, b: buffers.classifier, out: buffers.gradHidden } });
  }
  return products;
}

/** One chunk of rows' products: its logits, then its gradient products. */
export interface ChunkProducts {
  readonly logits: ProductSpec;
  readonly grads: readonly ProductSpec[];
}

/**
 * The products of `shape` in chunks of `chunkRows` rows: logits into `buffers.logits` (at the
 * chunk's rows for 'full', from its start for 'chunk'), dH of the chunk's rows, dW (and db)
 * accumulated over chunks in order. 16-bit hidden states and classifier are read as such.
 */
export function linearProducts(shape: LinearShape, chunkRows: number, layout: 'full' | 'chunk', buffers: LinearBuffers,
  dtype: Dtype, hiddenRuns: HiddenRuns): ChunkProducts[] {
  const { n, v, d } = shape;
  const half = dtype !== 'float32';
  const chunks: ChunkProducts[] = [];
  for (let first = 0, c = 0; first < n; first += chunkRows, c++) {
    const rows = Math.min(chunkRows, n - first);
    const part = { n: rows, v, d };
    const logitsAt = layout === 'full' ? first * v : 0;
    const logits = logitsProduct(part, buffers.bias !== undefined, { h: first * d, logits: logitsAt });
    const grads: ProductSpec[] = [
      ...hiddenProducts(part, first, logitsAt, hiddenRuns(rows), buffers, half ? { b: dtype } : undefined),
      { problem: withDtypes(gradWeightProduct(part, c > 0, { g: logitsAt, h: first * d }), half ? { b: dtype } : undefined),
        buffers: { a: buffers.logits, b: buffers.hidden, out: buffers.gradClassifier } },
    ];
    if (buffers.gradBias && buffers.ones) {
      grads.push({ problem: { m: v, p: 1, k: rows, aTransposed: true, bTransposed: false, accumulate: c > 0, bias: false,
        offsets: { a: logitsAt } }, buffers: { a: buffers.logits, b: buffers.ones, out: buffers.gradBias } });
    }
    chunks.push({
      logits: { problem: withDtypes(logits, half ? { a: dtype, b: dtype } : undefined),
        buffers: { a: buffers.hidden, b: buffers.classifier, bias: buffers.bias, out: buffers.logits } },
      grads,
    });
  }
  return chunks;
}

/** `problem` with its 16-bit operands named (unchanged for f32). */
function withDtypes(problem: MatmulProblem, dtypes: { a?: Dtype; b?: Dtype } | undefined): MatmulProblem {
  return dtypes === undefined ? problem : { ...problem, dtypes };
}

/**
 * The most rows of logits [rows, v] that one storage binding holds from any offset (a binding starts
 * at the aligned byte at or below its operand), in multiples of `step`.
 */
export function rowsPerBinding(limits: GPUSupportedLimits, v: number, step = 64): number {
  const fit = Math.floor((limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment) / (v * 4));
  return Math.max(step, Math.floor(fit / step) * step);
}
