/**
 * Encodes one linear-head call: per chunk of rows, its logits made by matmuls (one per vocabulary
 * slice) in a scratch buffer, the cross-entropy row passes over them (the same passes as `forward`,
 * the gradient d(loss)/d(logits) written in place), then the gradient products: d(hidden) for the
 * chunk, d(classifier) and d(bias) accumulated over chunks in chunk order. The 'mean' denominator
 * is reduced from the targets before the first chunk, the batch loss after the last. Every buffer
 * it makes belongs to the call's CallBuffers.
 */
import type { LinearPlan } from '../linear-plan.js';
import type { LinearProblem } from '../linear-problem.js';
import { dataBytes } from '../options.js';
import type { CrossEntropyPasses } from '../passes.js';
import { dtypeBytes } from '../half-precision.js';
import type { Dtype } from '../types.js';
import type { CallBuffers } from './buffers.js';
import { ELEMENT_BYTES } from './constants.js';
import { encodeDispatches, type PreparedDispatch } from './dispatch.js';
import {
  compileKernels, compileKernelsSync, prepareCrossEntropy, type CompiledKernels, type EncodedCrossEntropy,
} from './encode-cross-entropy.js';
import {
  matmulKernel, matmulUniform, partialSum, planMatmul, prepareMatmul, type MatmulBuffers, type MatmulPlan, type MatmulProblem,
} from './matmul.js';
import { packHalfKernel, packHalfUniform, planPackHalf, preparePackHalf, type PackHalfPlan } from './pack-half.js';
import type { Kernel, Kernels } from './pipelines.js';
import { uniformBlocks, type UniformBlock } from './uniforms.js';

/** The GPU buffers a linear call reads: the caller's, or uploads of host data. */
export interface LinearInputs {
  readonly hidden: GPUBuffer;
  /** One buffer (a caller's classifier), or one per store of the plan (an uploaded one). */
  readonly classifier: readonly GPUBuffer[];
  readonly target: GPUBuffer;
  readonly bias?: GPUBuffer;
  readonly weight?: GPUBuffer;
  readonly gradOutput?: GPUBuffer;
}

/** What the encoded work leaves on the GPU. */
export interface EncodedLinear {
  /** The cross-entropy's loss, status and per-row buffers (its `grad` is the scratch: not a result). */
  readonly rows: EncodedCrossEntropy;
  /** d(hidden) [N, D] in its dtype. */
  readonly hidden?: GPUBuffer;
  /** d(classifier) [V, D] in its dtype: one buffer, or one per store of the plan. */
  readonly classifier?: readonly GPUBuffer[];
  /** d(bias) [V], f32. */
  readonly bias?: GPUBuffer;
}

/** The kernels of a linear call: the row passes', and each matmul and packing plan's. */
export interface LinearKernels {
  readonly rows: CompiledKernels;
  readonly matmul: ReadonlyMap<MatmulPlan, Kernel>;
  readonly pack: ReadonlyMap<PackHalfPlan, Kernel>;
}

/** A product of the call: its plan, and which buffers it binds (resolved when prepared). */
interface Product {
  readonly plan: MatmulPlan;
  readonly buffers: (inputs: LinearInputs, own: OwnBuffers) => MatmulBuffers;
}

interface OwnBuffers {
  readonly scratch: GPUBuffer;
  /** Ones: a column for d(bias), a row for summing d(hidden)'s partial products. */
  readonly ones: GPUBuffer;
  /** d(hidden)'s partial products of one chunk (hiddenGradRuns), where it is split. */
  readonly partials?: GPUBuffer;
  readonly gradHidden?: GPUBuffer;
  readonly gradClassifier: readonly GPUBuffer[];
  readonly gradBias?: GPUBuffer;
}

/** A conversion of an f32 gradient to its 16-bit dtype: plan and buffers. */
interface Packing {
  readonly plan: PackHalfPlan;
  readonly buffers: (own: OwnBuffers, packed: PackedBuffers) => { src: GPUBuffer; dst: GPUBuffer };
}

interface PackedBuffers {
  readonly hidden?: GPUBuffer;
  readonly classifier: readonly GPUBuffer[];
}

/** Everything a linear call's GPU work is, planned without a GPU: passes, products, packings. */
export interface LinearWork {
  readonly plan: LinearPlan;
  readonly passes: CrossEntropyPasses;
  /** Per chunk: its logits products; its gradient products. */
  readonly chunks: readonly { readonly logits: readonly Product[]; readonly grads: readonly Product[] }[];
  readonly packings: readonly Packing[];
  /** Classes per d(classifier) output buffer: one buffer if it fits, else one per store. */
  readonly classifierOutputs: readonly { readonly first: number; readonly classes: number }[];
}

type Limits = GPUSupportedLimits;

/**
 * Classes one d(hidden) product sums over at most (docs/accuracy.md, the linear head): a longer
 * vocabulary is summed block by block.
 */
export const SUM_BLOCK = 4096;

/** Invocations a d(hidden) product should have at least, split into runs of K to get there. */
const PARALLEL_INVOCATIONS = 16384;
/** The shortest run of K a split product is cut into: shorter ones add more partials than work. */
const MIN_RUN = 256;

/**
 * Runs of each slice's classes for d(hidden) = G·W of one chunk: enough that the product has
 * PARALLEL_INVOCATIONS (it has only N/4 · D/4 blocks of outputs, and a K of the whole vocabulary),
 * each at most SUM_BLOCK long; or none (an empty list) when their partial products would not fit
 * what the memory budget leaves beside the chunk's logits, or one binding.
 */
export function hiddenGradRuns(plan: LinearPlan, rows: number, depth: number, limits: Limits): number[] {
  const blocks = Math.ceil(rows / 4) * Math.ceil(depth / 4);
  const wanted = Math.ceil(PARALLEL_INVOCATIONS / blocks);
  const runs = plan.slices.map((slice) => {
    const length = Math.min(SUM_BLOCK, Math.max(MIN_RUN, Math.ceil(slice.classes / wanted)));
    return Math.ceil(Math.ceil(slice.classes / Math.ceil(slice.classes / length)) / 4) * 4;
  });
  const partials = plan.slices.reduce((sum, slice, s) => sum + Math.ceil(slice.classes / runs[s]!), 0);
  const bytes = partials * rows * depth * ELEMENT_BYTES;
  // Within what the budget leaves beside the chunk's logits.
  return partials > 1 && bytes <= Math.min(plan.memoryBudget - plan.scratchBytes, limits.maxStorageBufferBindingSize)
    ? runs : [];
}

/**
 * d(hidden) of one chunk, G·W summed over the vocabulary: split into runs of classes written as
 * partial products and summed in run order (hiddenGradRuns), or, where those do not fit, in blocks
 * of at most SUM_BLOCK classes each added onto the total in order. Either way the rounding grows
 * with a run's length and the number of runs, not with V.
 */
function hiddenGradProducts(plan: LinearPlan, piece: { firstRow: number; rows: number }, d: number, v: number,
  classifierDtype: Dtype, limits: Limits, classifierAt: (slice: LinearPlan['slices'][number]) => { buffer: number; offset: number },
): Product[] {
  const n = piece.rows;
  const products: Product[] = [];
  const runs = hiddenGradRuns(plan, n, d, limits);
  if (runs.length > 0) {
    let slot = 0;
    plan.slices.forEach((slice, s) => {
      const at = classifierAt(slice);
      const problemOf: MatmulProblem = {
        m: n, p: d, k: slice.classes, aTransposed: false, bTransposed: false, accumulate: false, bias: false,
        offsets: { a: slice.first, b: at.offset, out: slot * n * d }, strides: { a: v }, dtypes: { b: classifierDtype },
        splitK: runs[s]!,
      };
      slot += Math.ceil(slice.classes / runs[s]!);
      products.push({ plan: planMatmul(problemOf, limits), buffers: (inputs, own) => ({ a: own.scratch,
        b: inputs.classifier[at.buffer]!, out: own.partials! }) });
    });
    products.push({ plan: planMatmul(partialSum(n, d, slot, false, { out: piece.firstRow * d }), limits),
      buffers: (_inputs, own) => ({ a: own.ones, b: own.partials!, out: own.gradHidden! }) });
    return products;
  }
  let first = true;
  for (const slice of plan.slices) {
    const at = classifierAt(slice);
    for (let from = 0; from < slice.classes; from += SUM_BLOCK) {
      const problemOf: MatmulProblem = {
        m: n, p: d, k: Math.min(SUM_BLOCK, slice.classes - from), aTransposed: false, bTransposed: false,
        accumulate: !first, bias: false, offsets: { a: slice.first + from, b: at.offset + from * d, out: piece.firstRow * d },
        strides: { a: v }, dtypes: { b: classifierDtype },
      };
      first = false;
      products.push({ plan: planMatmul(problemOf, limits), buffers: (inputs, own) => ({ a: own.scratch,
        b: inputs.classifier[at.buffer]!, out: own.gradHidden! }) });
    }
  }
  return products;
}

/** Plans the products and packings of a call. */
export function planLinearWork(problem: LinearProblem, plan: LinearPlan, passes: CrossEntropyPasses, limits: Limits,
  classifierInGpuBuffer: boolean): LinearWork {
  const { depth: d, classes: v, grads } = problem;
  const dtypes = { h: problem.hiddenDtype, w: problem.classifierDtype };
  // Where a slice's classifier rows are: in the caller's one buffer, or in their store's upload.
  const classifierAt = (slice: LinearPlan['slices'][number]) => (classifierInGpuBuffer
    ? { buffer: 0, offset: slice.first * d } : { buffer: slice.store, offset: slice.inStore * d });
  const chunks = plan.work.pieces.map((piece, c) => {
    const n = piece.rows;
    if (n === 0) return { logits: [], grads: [] };
    const logits: Product[] = plan.slices.map((slice) => {
      const at = classifierAt(slice);
      const problemOf: MatmulProblem = {
        m: n, p: slice.classes, k: d, aTransposed: false, bTransposed: true, accumulate: false, bias: problem.hasBias,
        offsets: { a: piece.firstRow * d, b: at.offset, bias: slice.first, out: slice.first },
        strides: { out: v }, dtypes: { a: dtypes.h, b: dtypes.w },
      };
      return { plan: planMatmul(problemOf, limits), buffers: (inputs, own) => ({ a: inputs.hidden,
        b: inputs.classifier[at.buffer]!, bias: problem.hasBias ? inputs.bias : undefined, out: own.scratch }) };
    });
    const gradProducts: Product[] = [];
    if (grads.hidden) gradProducts.push(...hiddenGradProducts(plan, piece, d, v, dtypes.w, limits, classifierAt));
    if (grads.classifier) {
      for (const slice of plan.slices) {
        const problemOf: MatmulProblem = {
          m: slice.classes, p: d, k: n, aTransposed: true, bTransposed: false, accumulate: c > 0, bias: false,
          offsets: { a: slice.first, b: piece.firstRow * d, out: slice.inStore * d }, strides: { a: v },
          dtypes: { b: dtypes.h },
        };
        gradProducts.push({ plan: planMatmul(problemOf, limits), buffers: (inputs, own) => ({ a: own.scratch,
          b: inputs.hidden, out: own.gradClassifier[slice.store]! }) });
      }
    }
    if (grads.bias) {
      // d(bias) is the column sums of the chunk's gradient: Gᵀ times a column of ones.
      for (const slice of plan.slices) {
        const problemOf: MatmulProblem = {
          m: slice.classes, p: 1, k: n, aTransposed: true, bTransposed: false, accumulate: c > 0, bias: false,
          offsets: { a: slice.first, out: slice.first }, strides: { a: v },
        };
        gradProducts.push({ plan: planMatmul(problemOf, limits), buffers: (_inputs, own) => ({ a: own.scratch,
          b: own.ones, out: own.gradBias! }) });
      }
    }
    return { logits, grads: gradProducts };
  });

  // 16-bit gradients are accumulated in f32 and rounded once, at the end.
  const packings: Packing[] = [];
  const classifierBytes = v * d * dtypeBytes(problem.classifierGradDtype);
  const classifierOutputs = problem.classifierGradDtype === 'float32' || classifierBytes > limits.maxBufferSize
    ? plan.stores : [{ first: 0, classes: v }];
  // Each packing within one binding: d(hidden) in groups of rows, d(classifier) slice by slice.
  if (grads.hidden && problem.hiddenGradDtype !== 'float32') {
    const dtype = problem.hiddenGradDtype;
    const groupRows = Math.max(1, Math.floor((limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment)
      / (d * ELEMENT_BYTES)));
    for (let first = 0; first < problem.rows; first += groupRows) {
      const count = Math.min(groupRows, problem.rows - first) * d;
      packings.push({ plan: planPackHalf(count, dtype, { src: first * d, dst: first * d }, limits),
        buffers: (own, packed) => ({ src: own.gradHidden!, dst: packed.hidden! }) });
    }
  }
  if (grads.classifier && problem.classifierGradDtype !== 'float32') {
    const dtype = problem.classifierGradDtype;
    const single = classifierOutputs.length === 1;
    for (const slice of plan.slices) {
      packings.push({ plan: planPackHalf(slice.classes * d, dtype,
        { src: slice.inStore * d, dst: (single ? slice.first : slice.inStore) * d }, limits),
      buffers: (own, packed) => ({ src: own.gradClassifier[slice.store]!, dst: packed.classifier[single ? 0 : slice.store]! }) });
    }
  }
  return { plan, passes, chunks, packings, classifierOutputs };
}

/** Compiles every kernel a call's work runs (each once per device, then cached). */
export async function compileLinearKernels(kernels: Kernels, work: LinearWork): Promise<LinearKernels> {
  const products = work.chunks.flatMap((chunk) => [...chunk.logits, ...chunk.grads]);
  const [rows, matmuls, packs] = await Promise.all([
    compileKernels(kernels, work.passes),
    Promise.all(products.map((product) => matmulKernel(kernels, product.plan))),
    Promise.all(work.packings.map((packing) => packHalfKernel(kernels, packing.plan))),
  ]);
  return {
    rows,
    matmul: new Map(products.map((product, i) => [product.plan, matmuls[i]!])),
    pack: new Map(work.packings.map((packing, i) => [packing.plan, packs[i]!])),
  };
}

/** compileLinearKernels without waiting (Kernels.getSync), for a caller that encodes synchronously. */
export function compileLinearKernelsSync(kernels: Kernels, work: LinearWork): LinearKernels {
  const products = work.chunks.flatMap((chunk) => [...chunk.logits, ...chunk.grads]);
  return {
    rows: compileKernelsSync(kernels, work.passes),
    matmul: new Map(products.map((product) => [product.plan, kernels.getSync(product.plan.kernel, product.plan.variant)])),
    pack: new Map(work.packings.map((packing) => [packing.plan, kernels.getSync('packHalf', { dtype: packing.plan.dtype })])),
  };
}

/** One linear call's GPU work, prepared once (buffers, uniforms, bind groups) and encoded per run. */
export interface PreparedLinear {
  readonly encoded: EncodedLinear;
  /** Binds other input buffers of the same sizes, as PreparedCrossEntropy.rebind. */
  rebind(inputs: LinearInputs): void;
  /** Queue writes before each run: status reset, poison, the empty-batch loss. */
  reset(): void;
  encode(encoder: GPUCommandEncoder): void;
}

export function prepareLinear(device: GPUDevice, kernels: LinearKernels, buffers: CallBuffers, problem: LinearProblem,
  work: LinearWork, inputs: LinearInputs): PreparedLinear {
  const { plan, passes } = work;
  const { rows, depth, classes, grads } = problem;
  const f32Output = (label: string, bytes: number) => buffers.output(label, bytes);
  // The partial products of d(hidden) the chunks make: the most of them, and their largest size.
  const slotsOf = (n: number) => hiddenGradRuns(plan, n, depth, device.limits)
    .reduce((sum, run, s) => sum + Math.ceil(plan.slices[s]!.classes / run), 0);
  const chunkSizes = grads.hidden ? [...new Set(plan.work.pieces.map((piece) => piece.rows).filter((n) => n > 0))] : [];
  const partialSlots = Math.max(0, ...chunkSizes.map(slotsOf));
  const partialBytes = Math.max(0, ...chunkSizes.map((n) => slotsOf(n) * n * depth * ELEMENT_BYTES));
  const own: OwnBuffers = {
    scratch: f32Output('linear-logits', plan.scratchBytes),
    ones: buffers.upload('ones', new Float32Array(Math.max(1, plan.chunkRows, partialSlots)).fill(1)),
    partials: partialBytes > 0 ? f32Output('grad-hidden-partials', partialBytes) : undefined,
    gradHidden: grads.hidden ? f32Output('grad-hidden-f32', rows * depth * ELEMENT_BYTES) : undefined,
    gradClassifier: grads.classifier
      ? plan.stores.map((store, s) => f32Output(`grad-classifier-f32-${s}`, store.classes * depth * ELEMENT_BYTES)) : [],
    gradBias: grads.bias ? f32Output('grad-bias', classes * ELEMENT_BYTES) : undefined,
  };
  const packedOutput = (label: string, count: number, dtype: Dtype) => buffers.output(label, dataBytes(count, dtype));
  const packed: PackedBuffers = {
    hidden: grads.hidden && problem.hiddenGradDtype !== 'float32'
      ? packedOutput('grad-hidden', rows * depth, problem.hiddenGradDtype) : undefined,
    classifier: grads.classifier && problem.classifierGradDtype !== 'float32'
      ? work.classifierOutputs.map((out, i) => packedOutput(`grad-classifier-${i}`, out.classes * depth,
        problem.classifierGradDtype)) : [],
  };
  const rowInputs = (bound: LinearInputs) => ({ logits: own.scratch, target: bound.target, weight: bound.weight,
    gradOutput: bound.gradOutput });
  const rowsPrepared = prepareCrossEntropy(device, kernels.rows, buffers, passes, rowInputs(inputs));

  // Every product's and packing's uniform block in one buffer.
  const products = work.chunks.flatMap((chunk) => [...chunk.logits, ...chunk.grads]);
  const blocks: UniformBlock[] = [...products.map((p) => matmulUniform(p.plan)), ...work.packings.map((p) => packHalfUniform(p.plan))];
  const params = uniformBlocks(device, device.limits.minUniformBufferOffsetAlignment,
    (bytes, usage) => buffers.create('linear-params', bytes, usage), blocks);
  const packDispatches = work.packings.map((packing, i) => preparePackHalf(device, kernels.pack.get(packing.plan)!,
    packing.plan, params[products.length + i]!, packing.buffers(own, packed)));

  // The run's dispatches with `bound` bound, in order: the denominator, then each chunk's logits,
  // rows, gradient and products; the batch reduction; the packings.
  const bind = (bound: LinearInputs) => {
    const dispatchOf = new Map<Product, PreparedDispatch>();
    products.forEach((product, i) => dispatchOf.set(product, prepareMatmul(device, kernels.matmul.get(product.plan)!,
      product.plan, params[i]!, product.buffers(bound, own))));
    const order: (PreparedDispatch | null)[] = [...rowsPrepared.stage('weights'), ...rowsPrepared.stage('denominator')];
    work.chunks.forEach((chunk, c) => {
      order.push(...chunk.logits.map((p) => dispatchOf.get(p)!), ...rowsPrepared.stage('rows', c),
        ...rowsPrepared.stage('grad', c), ...chunk.grads.map((p) => dispatchOf.get(p)!));
    });
    order.push(...rowsPrepared.stage('reduce'), ...packDispatches);
    return { inputs: bound, order };
  };
  let bound = bind(inputs);

  const f32Classifier = problem.classifierGradDtype === 'float32';
  const gradOutputs = [own.gradHidden, ...own.gradClassifier, own.gradBias, packed.hidden, ...packed.classifier]
    .filter((buffer): buffer is GPUBuffer => buffer !== undefined);
  return {
    encoded: {
      rows: { ...rowsPrepared.encoded, grad: undefined },
      hidden: grads.hidden ? packed.hidden ?? own.gradHidden : undefined,
      classifier: grads.classifier ? (f32Classifier ? own.gradClassifier : packed.classifier) : undefined,
      bias: own.gradBias,
    },
    rebind: (next) => {
      const now = bound.inputs;
      const same = next.hidden === now.hidden && next.target === now.target && next.bias === now.bias
        && next.weight === now.weight && next.gradOutput === now.gradOutput
        && next.classifier.length === now.classifier.length && next.classifier.every((b, i) => b === now.classifier[i]);
      if (same) return;
      rowsPrepared.rebind(rowInputs(next));
      bound = bind(next);
    },
    reset: () => rowsPrepared.reset(),
    encode: (encoder) => {
      rowsPrepared.markRun(encoder);
      // No rows, no products: the gradients of an empty batch are zeros.
      if (rows === 0) for (const buffer of gradOutputs) encoder.clearBuffer(buffer);
      encodeDispatches(encoder, 'cross-entropy:linear', bound.order);
    },
  };
}

/** The bytes the caller's or uploaded buffers of each input need, for messages and uploads. */
export function linearInputBytes(problem: LinearProblem): { hidden: number; classifier: number } {
  return { hidden: dataBytes(problem.rows * problem.depth, problem.hiddenDtype),
    classifier: dataBytes(problem.classes * problem.depth, problem.classifierDtype) };
}

