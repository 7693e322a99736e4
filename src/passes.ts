/**
 * A cross-entropy call as data: the list of GPU passes that computes it (kernel, resources by
 * binding name, invocations, uniform block), the buffers they use, and where the results land.
 * Built here, in one place, from the problem and its work plan (plan.ts); the GPU layer only
 * resolves the buffer names and encodes the list in order (or, for logits streamed from the host,
 * piece by piece). Nothing here touches a GPU, so the plan is unit-tested without one.
 */
import type { KernelName } from './gpu/kernels.js';
import type { RowVariant } from './gpu/pipelines.js';
import { REDUCE_PARAMS, ROW_PARAMS, ROW_STATE, ROW_SUMMARY, STATUS } from './gpu/shader-structs.js';
import { uniformBlock, type UniformBlock } from './gpu/uniforms.js';
import { dataBytes, type Problem } from './options.js';
import { dtypeBytes } from './half-precision.js';
import type { Dtype } from './types.js';
import { reductionInputBytes, type Piece, type ReduceLevel, type WorkPlan } from './plan.js';

const ELEMENT_BYTES = 4;
/** Rows one invocation of a lanes kernel takes (plan.lanes): the four lanes of a vec4. */
const LANES = 4;
/** Elements one invocation of rowGradHalf writes: row-grad-half.wgsl's RUN_GROUPS groups of 4. */
export const HALF_GRAD_RUN = 16;
const REDUCTION_CODES = { mean: 0, sum: 1, none: 2 } as const;
/** batch-reduce's `divide`: keep the sum, divide by the summed weights, or by a fixed count. */
export const Divide = { none: 0, byWeight: 1, byCount: 2 } as const;

/**
 * A buffer by name: the call's inputs (`logits`, `target`, `weight`, `grad-output`), `absent` (a
 * small buffer bound where a kernel's optional input is not given, never read), or one of the
 * call's own buffers (CrossEntropyPasses.buffers).
 */
export type BufferName = string;

/** Bytes [offset, offset + size) of a named buffer; the whole buffer when no size is given. */
export interface BufferSlice {
  readonly buffer: BufferName;
  readonly offset?: number;
  readonly size?: number;
}

/**
 * When a pass runs: `weights` and `denominator` (the 'mean' denominator, before a fused gradient),
 * `rows` (each piece's statistics and loss), `reduce` (the batch reduction), `grad` (each piece's
 * gradient from its summaries). Logits streamed from the host run each piece's `rows` passes
 * after uploading it, then `reduce`.
 */
export type Stage = 'weights' | 'denominator' | 'rows' | 'reduce' | 'grad';

/** One dispatch. */
export interface Pass {
  readonly kernel: KernelName;
  readonly stage: Stage;
  /** The piece of rows it covers (row passes). */
  readonly piece?: number;
  readonly invocations: number;
  /** Index of its uniform block in CrossEntropyPasses.uniforms (bound as `params`). */
  readonly uniforms: number;
  /** Every other binding of the kernel, by name. */
  readonly resources: Readonly<Record<string, BufferSlice>>;
}

/** A buffer the call makes; every one is an output (poisoned before each run when poisoning is on). */
export interface CallBuffer {
  readonly name: BufferName;
  readonly bytes: number;
}

/** Everything a call's GPU work is. */
export interface CrossEntropyPasses {
  readonly work: WorkPlan;
  /** The problem kind the row kernels are specialised for. */
  readonly variant: RowVariant;
  readonly uniforms: readonly UniformBlock[];
  readonly buffers: readonly CallBuffer[];
  /** In encoding order. */
  readonly passes: readonly Pass[];
  readonly results: {
    /** One f32 ('mean', 'sum') or one per row ('none'). */
    readonly loss: BufferName;
    /** `logits` where the gradient overwrites the input; null without a gradient. */
    readonly grad: BufferName | null;
    /** [bad target count, first bad row]. */
    readonly status: BufferName;
    /** Per-row losses; a bad row's slot holds its target's bits (see lib/row-finish.wgsl). */
    readonly rowLoss: BufferName;
    /** Per-row summaries; null where row-loss-grad keeps them in registers. */
    readonly rowSummary: BufferName | null;
  };
  /** The loss of an empty batch, written before the run (no reduction level runs): NaN or 0. */
  readonly emptyLoss: number | null;
}

/** What a call adds to the problem. */
export interface CallShape {
  readonly hasWeight: boolean;
  readonly hasGradOutput: boolean;
  /** The gradient overwrites `logits`. */
  readonly gradInPlace: boolean;
  /** The subgroup size the kernels were made with (0: none). */
  readonly subgroupSize: number;
  /** Row statistics of a vocabulary shard holding classes [classOffset, classOffset + C). */
  readonly sharded?: boolean;
  readonly classOffset?: number;
  /**
   * Each piece's logits are made at the start of the `logits` buffer just before its row passes,
   * and its gradient is written there in place and used before the next piece overwrites it (the
   * linear head's chunks of rows): the 'mean' denominator is reduced from the targets first.
   */
  readonly piecewise?: boolean;
}

/** The row-kernel variant a problem needs (see lib/row-common.wgsl's override constants). */
export function rowVariant(problem: Problem, call: CallShape): RowVariant {
  const sharded = call.sharded ?? false;
  return {
    input: problem.input,
    targetKind: problem.targetKind,
    hasWeight: call.hasWeight,
    // Row statistics of a shard always carry the smoothing sums: the merged loss may need them.
    needSmoothingSum: problem.targetKind === 'classIndex' && (problem.labelSmoothing > 0 || sharded),
    hasSoftcap: problem.softcap > 0,
    writeSummary: problem.grad || sharded,
    gradInPlace: problem.grad && call.gradInPlace,
    dtype: problem.dtype,
  };
}

/** Bytes [firstRow, +rows) × bytesPerRow of a buffer: a piece's slice of a per-row array. */
function rowRange(buffer: BufferName, piece: Piece, bytesPerRow: number): BufferSlice {
  return { buffer, offset: piece.firstRow * bytesPerRow, size: Math.max(ELEMENT_BYTES, piece.rows * bytesPerRow) };
}

/**
 * A piece's slice of an [N, C, ...] tensor of `dtype`: 16-bit values end on a whole word (a piece
 * starts on an aligned byte offset, so only the tensor's last word may be half inside it).
 */
function tensorRange(buffer: BufferName, piece: Piece, classes: number, dtype: Dtype): BufferSlice {
  return { buffer, offset: piece.firstRow * classes * dtypeBytes(dtype),
    size: Math.max(ELEMENT_BYTES, dataBytes(piece.rows * classes, dtype)) };
}

/**
 * The row kernels of a plan: statistics (none where the loss kernel scans the rows itself), loss,
 * and gradient (none where the loss kernel writes it).
 */
interface RowKernels {
  readonly stats: KernelName | null;
  readonly loss: KernelName;
  readonly grad: KernelName | null;
  /** The loss kernel scans its rows whole, and writes their gradient too (row-loss-grad). */
  readonly fused: boolean;
}

/**
 * Rows that one invocation scans whole (one chunk, read as scalars or as lanes) are scanned by the
 * loss kernel itself, which with a gradient also writes it (row-loss-grad: the statistics never go
 * through memory). Other rows take a statistics pass (scalar, vec4, unaligned vec4 or subgroup), a
 * merge into each row's loss and summary, and, with a gradient, a gradient pass from the summaries.
 */
function rowKernels(work: WorkPlan, grad: boolean, subgroupSize: number, halfGrad: boolean): RowKernels {
  // A 16-bit gradient: the rows' passes as without one (keeping the summaries), then the gradient
  // in whole words: by rows (contiguous rows of at least a group), by lanes, or element by element.
  if (grad && halfGrad) {
    const half = work.inner === 1 && work.classes >= LANES ? 'rowGradHalfRows' : work.lanes ? 'rowGradHalfLanes' : 'rowGradHalf';
    return { ...rowKernels(work, false, subgroupSize, false), grad: half };
  }
  const lanesOr = <K extends KernelName>(scan: K, lanes: K): K => (work.lanes ? lanes : scan);
  if (work.chunks === 1 && !work.vec4 && !work.unaligned) {
    return grad ? { stats: null, loss: lanesOr('rowLossGradScan', 'rowLossGradLanes'), grad: null, fused: true }
      : { stats: null, loss: lanesOr('rowLossScan', 'rowLossLanes'), grad: null, fused: false };
  }
  const form = work.vec4 ? 'Vec4' : work.unaligned ? 'Unaligned' : '';
  const stats = work.vec4 && subgroupSize > 0 ? 'rowStatsSubgroup' : (`rowStats${form}` as const);
  return { stats, loss: 'rowLoss', grad: grad ? (`rowGrad${form}` as const) : null, fused: false };
}

/**
 * The passes of one call (see rowKernels for which): per piece of rows, the row passes; the batch
 * reduction; the gradient passes. A fused gradient of 'mean' needs the denominator first: each
 * row's weight from its target alone, reduced before the rows are scanned.
 */
export function planPasses(problem: Problem, work: WorkPlan, call: CallShape): CrossEntropyPasses {
  const variant = rowVariant(problem, call);
  const halfGrad = problem.gradDtype !== 'float32';
  const kernels = rowKernels(work, problem.grad, call.subgroupSize, halfGrad);
  const { fused } = kernels;
  const scanInLoss = kernels.stats === null;
  const piecewise = call.piecewise ?? false;
  if (piecewise && problem.grad && !call.gradInPlace) throw new Error('passes: piecewise logits take their gradient in place');
  // A piece's gradient is made before the batch is reduced when the rows are scanned with it, or
  // when the piece's logits are gone by then.
  const denominatorFirst = (fused || (piecewise && problem.grad)) && problem.reduction === 'mean';
  // Where a piece's logits (and a gradient in place) start: at its rows, or at the buffer's start.
  const pieceAtStart = work.streamed || piecewise;
  // Targets and weights are f32 whatever the logits' dtype.
  const rowBytes = work.classes * ELEMENT_BYTES;

  const uniforms: UniformBlock[] = work.pieces.map((piece) => uniformBlock(ROW_PARAMS, {
    rows: piece.rows, classes: work.classes, inner: work.inner, chunks: work.chunks, chunk_len: work.chunkLen,
    ignore_index: problem.ignoreIndex, label_smoothing: problem.labelSmoothing, class_offset: call.classOffset ?? 0,
    sharded: Number(call.sharded ?? false), softcap: problem.softcap, z_loss: problem.zLoss,
    reduction: REDUCTION_CODES[problem.reduction], has_grad_output: Number(call.hasGradOutput),
    first_row: piece.firstRow,
  }));
  const buffers: CallBuffer[] = [];
  const own = (name: BufferName, bytes: number) => {
    buffers.push({ name, bytes });
    return name;
  };
  const largestPiece = Math.max(...work.pieces.map((p) => p.rows));
  // Chunk states between the statistics pass and row-loss.
  const partials = scanInLoss ? null : own('row-states', largestPiece * work.chunks * ROW_STATE.byteSize);
  const rowLoss = own('row-loss', reductionInputBytes(work.rows));
  const rowWeight = own('row-weight', reductionInputBytes(work.rows));
  const rowSummary = fused ? null : own('row-summary', work.rows * ROW_SUMMARY.byteSize);
  const status = own('status', STATUS.byteSize);
  const grad = !problem.grad ? null : call.gradInPlace ? 'logits'
    : own('grad', dataBytes(work.rows * work.classes, problem.gradDtype));
  const gradRange = (piece: Piece) => {
    const range = tensorRange(grad!, piece, work.classes, problem.gradDtype);
    return pieceAtStart && call.gradInPlace ? { ...range, offset: 0 } : range;
  };

  const passes: Pass[] = [];
  // The batch reduction: levels of (loss, weight) partial sums, the last one dividing for 'mean'.
  const reduceChain = (name: string, stage: Stage, from: BufferName, divideLast: number) => {
    let loss = from;
    let weight = rowWeight;
    work.reduceLevels.forEach((level: ReduceLevel, i) => {
      const divide = i === work.reduceLevels.length - 1 ? divideLast : Divide.none;
      uniforms.push(uniformBlock(REDUCE_PARAMS, { count: level.count, chunk: level.chunk, divide, denominator: 0 }));
      const outLoss = own(`${name}-loss-${i}`, reductionInputBytes(level.outputs));
      const outWeight = own(`${name}-weight-${i}`, reductionInputBytes(level.outputs));
      passes.push({ kernel: 'batchReduce', stage, invocations: level.outputs, uniforms: uniforms.length - 1,
        resources: { in_loss: { buffer: loss }, in_weight: { buffer: weight }, out_loss: { buffer: outLoss },
          out_weight: { buffer: outWeight } } });
      loss = outLoss;
      weight = outWeight;
    });
    return { loss, weight };
  };

  // What each piece's row kernels read: its slices, the absent buffer for what the problem lacks.
  const inputsOf = (piece: Piece) => {
    const logits: BufferSlice = pieceAtStart ? { ...tensorRange('logits', piece, work.classes, problem.dtype), offset: 0 }
      : tensorRange('logits', piece, work.classes, problem.dtype);
    return {
      logits,
      // The gradient kernels read the input from `grad` when it is written in place.
      gradInput: call.gradInPlace ? { buffer: 'absent' } : logits,
      class_target: problem.targetKind === 'classIndex' ? rowRange('target', piece, ELEMENT_BYTES) : { buffer: 'absent' },
      target_probability: problem.targetKind === 'probabilities' ? rowRange('target', piece, rowBytes) : { buffer: 'absent' },
      weight: call.hasWeight ? { buffer: 'weight', size: rowBytes } : { buffer: 'absent' },
    };
  };

  const { stats, loss, grad: gradKernel } = kernels;

  // row-loss-grad writes no row weights: a reduced loss has them computed from the targets alone
  // (as has a denominator needed first).
  if ((fused && work.reduceLevels.length > 0) || denominatorFirst) {
    work.pieces.forEach((piece, p) => {
      const { class_target, weight } = inputsOf(piece);
      passes.push({ kernel: 'rowWeights', stage: 'weights', piece: p, invocations: piece.rows, uniforms: p,
        resources: { class_target, weight, row_weight: rowRange(rowWeight, piece, ELEMENT_BYTES) } });
    });
  }
  // Before row-loss-grad: the 'mean' denominator, the same sum of the same row weights as the loss's.
  const denominator = denominatorFirst ? reduceChain('denominator', 'denominator', rowWeight, Divide.none) : null;
  // What the gradient is scaled by: the 'mean' denominator, or the upstream gradient of 'none'. The
  // batch chain's weight buffer is named before the chain is planned (it comes after the row passes).
  const lastLevel = work.reduceLevels.length - 1;
  const scaleInput = (piece: Piece): BufferSlice => (problem.reduction === 'mean'
    ? { buffer: denominator?.weight ?? `batch-weight-${lastLevel}` }
    : call.hasGradOutput ? rowRange('grad-output', piece, ELEMENT_BYTES) : { buffer: 'absent' });

  work.pieces.forEach((piece, p) => {
    const { logits, gradInput, class_target, target_probability, weight } = inputsOf(piece);
    const rows = { row_loss: rowRange(rowLoss, piece, ELEMENT_BYTES), status: { buffer: status } };
    if (stats !== null) {
      // The subgroup form runs a workgroup (one subgroup) per chunk.
      const perChunk = stats === 'rowStatsSubgroup' ? call.subgroupSize : 1;
      passes.push({ kernel: stats, stage: 'rows', piece: p, invocations: piece.rows * work.chunks * perChunk, uniforms: p,
        resources: { logits, class_target, target_probability, weight, partials: { buffer: partials! } } });
    }
    const invocations = work.lanes ? piece.rows / LANES : piece.rows;
    if (fused) {
      passes.push({ kernel: loss, stage: 'rows', piece: p, invocations, uniforms: p, resources: { logits: gradInput,
        class_target, target_probability, weight, ...rows, grad: gradRange(piece),
        scale_input: scaleInput(piece) } });
    } else {
      const summaries = { row_weight: rowRange(rowWeight, piece, ELEMENT_BYTES),
        row_summary: rowRange(rowSummary!, piece, ROW_SUMMARY.byteSize) };
      const read: Record<string, BufferSlice> = scanInLoss ? { logits, class_target, target_probability, weight }
        : { class_target, weight, partials: { buffer: partials! } };
      passes.push({ kernel: loss, stage: 'rows', piece: p, invocations, uniforms: p,
        resources: { ...read, ...rows, ...summaries } });
    }
  });
  const batch = reduceChain('batch', 'reduce', rowLoss, problem.reduction === 'mean' ? Divide.byWeight : Divide.none);
  if (gradKernel !== null) {
    work.pieces.forEach((piece, p) => {
      const { gradInput, class_target, target_probability, weight } = inputsOf(piece);
      const read = { logits: gradInput, class_target, target_probability, weight,
        row_summary: rowRange(rowSummary!, piece, ROW_SUMMARY.byteSize), scale_input: scaleInput(piece) };
      const invocations = gradKernel === 'rowGradHalf' ? Math.ceil((piece.rows * work.classes) / HALF_GRAD_RUN)
        : gradKernel === 'rowGradHalfLanes' ? piece.rows / LANES : piece.rows * work.chunks;
      const output: Record<string, BufferSlice> = gradKernel.startsWith('rowGradHalf') ? { grad_words: gradRange(piece) }
        : { grad: gradRange(piece) };
      passes.push({ kernel: gradKernel, stage: 'grad', piece: p, invocations, uniforms: p, resources: { ...read, ...output } });
      // rowGradHalfRows leaves a partial last group of four (pieces before the last end on whole words).
      if (gradKernel === 'rowGradHalfRows' && (piece.rows * work.classes) % LANES !== 0) {
        passes.push({ kernel: 'rowGradHalfTail', stage: 'grad', piece: p, invocations: 1, uniforms: p,
          resources: { ...read, ...output } });
      }
    });
  }

  return {
    // An empty batch has passes of no invocations: nothing to dispatch.
    work, variant, uniforms, buffers, passes: passes.filter((pass) => pass.invocations > 0),
    results: { loss: batch.loss, grad, status, rowLoss, rowSummary },
    emptyLoss: work.rows === 0 && problem.reduction !== 'none' ? (problem.reduction === 'mean' ? NaN : 0) : null,
  };
}
