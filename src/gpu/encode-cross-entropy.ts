/**
 * Encodes one cross-entropy call into a command encoder: row-stats (or its vec4 or subgroup form),
 * row-loss, the batch-reduce levels and, when asked, row-grad; or, for a gradient of rows that one
 * invocation scans whole, row-loss-grad (after the rows' 'mean' denominator, reduced from their
 * targets) and the batch-reduce levels. Every buffer it makes belongs to the call's CallBuffers.
 */
import type { Problem } from '../options.js';
import { reductionInputBytes, type Piece, type WorkPlan } from '../plan.js';
import type { CallBuffers } from './buffers.js';
import { ELEMENT_BYTES } from './constants.js';
import { encodeDispatches, prepareDispatch, type PreparedDispatch } from './dispatch.js';
import type { Kernel, Kernels, RowKernelName, RowVariant } from './pipelines.js';
import { Divide, reduceParams, rowParams, uniformBlocks } from './uniforms.js';

/** Bytes of a RowState (nine f32) and of a RowSummary (eight f32, a u32, two f32), as in row-common.wgsl. */
const ROW_STATE_BYTES = 9 * ELEMENT_BYTES;
export const ROW_SUMMARY_BYTES = 11 * ELEMENT_BYTES;
/** Bytes of the row-loss status block: [count of bad targets, first bad row]. */
export const STATUS_BYTES = 2 * ELEMENT_BYTES;
const NO_BAD_ROW = 0xffffffff;
/** Rows one invocation of a lanes kernel takes (plan.lanes): the four lanes of a vec4. */
const LANES = 4;

/** The GPU buffers a call reads. `weight` and `gradOutput` are absent when not given. */
export interface CrossEntropyInputs {
  readonly logits: GPUBuffer;
  readonly target: GPUBuffer;
  readonly weight?: GPUBuffer;
  readonly gradOutput?: GPUBuffer;
}

/** How to encode beyond the problem itself. */
export interface EncodeFlags {
  /** Write the gradient over `inputs.logits`. */
  readonly gradInPlace: boolean;
  /** Row statistics of a vocabulary shard holding classes [classOffset, classOffset + C). */
  readonly classOffset?: number;
  readonly sharded?: boolean;
}

/** What the encoded work leaves on the GPU. */
export interface EncodedCrossEntropy {
  /** One f32 ('mean' / 'sum') or one per row ('none'). */
  readonly loss: GPUBuffer;
  readonly grad?: GPUBuffer;
  /** [bad target count, first bad row] (u32). */
  readonly status: GPUBuffer;
  /** Per-row losses; a bad row's slot holds its target's bits (see row-finish.wgsl). */
  readonly rowLoss: GPUBuffer;
  /** Per-row summaries (row-common.wgsl's RowSummary); none where row-loss-grad keeps them in registers. */
  readonly rowSummary: GPUBuffer | null;
}

/**
 * The row-kernel variant a problem needs (see row-common.wgsl's override constants); `gradInPlace`:
 * its gradient, if any, overwrites the input.
 */
export function rowVariant(problem: Problem, hasWeight: boolean, sharded = false, gradInPlace = false): RowVariant {
  return {
    input: problem.input,
    targetKind: problem.targetKind,
    hasWeight,
    // Row statistics of a shard always carry the smoothing sums: the merged loss may need them.
    needSmoothingSum: problem.targetKind === 'classIndex' && (problem.labelSmoothing > 0 || sharded),
    hasSoftcap: problem.softcap > 0,
    writeSummary: problem.grad || sharded,
    gradInPlace: problem.grad && gradInPlace,
  };
}

/** Whether row-loss scans each row itself (see row-loss.wgsl): rows one chunk long, read as scalars. */
function scansInLoss(plan: WorkPlan): boolean {
  return plan.chunks === 1 && !plan.vec4 && !plan.unaligned;
}

/**
 * Whether the gradient comes from the pass that computes the loss (row-loss-grad): rows one
 * invocation scans whole, whose statistics never go through memory.
 */
function gradInLoss(plan: WorkPlan, grad: boolean): boolean {
  return grad && scansInLoss(plan);
}

/** Whether row statistics take the subgroup form: contiguous rows a multiple of 4 long, where the kernels have it. */
function statsBySubgroup(plan: WorkPlan, subgroups: boolean): boolean {
  return plan.vec4 && subgroups;
}

/**
 * The row kernels a plan runs: statistics (none where row-loss scans its rows), loss, gradient
 * (none where the loss kernel writes it), and the row weights that kernel needs first (for a
 * reduced loss).
 */
export interface RowKernelChoice<K = RowKernelName> {
  readonly stats: K | null;
  readonly loss: K;
  readonly grad: K | null;
  readonly rowWeights: K | null;
}

/** Which row kernels run `plan` (see plan.ts); `subgroups`: the kernels were made with them. */
export function chooseRowKernels(plan: WorkPlan, grad: boolean, subgroups: boolean): RowKernelChoice {
  if (gradInLoss(plan, grad)) {
    return { stats: null, loss: plan.lanes ? 'rowLossGradLanes' : 'rowLossGradScan', grad: null,
      rowWeights: plan.reduceLevels.length > 0 ? 'rowWeights' : null };
  }
  const scanInLoss = scansInLoss(plan);
  let stats: RowKernelName | null = null;
  if (!scanInLoss) {
    stats = statsBySubgroup(plan, subgroups) ? 'rowStatsSubgroup'
      : plan.vec4 ? 'rowStatsVec4' : plan.unaligned ? 'rowStatsUnaligned' : 'rowStats';
  }
  const loss = !scanInLoss ? 'rowLoss' : plan.lanes ? 'rowLossLanes' : 'rowLossScan';
  let gradKernel: RowKernelName | null = null;
  if (grad) gradKernel = plan.vec4 ? 'rowGradVec4' : plan.unaligned ? 'rowGradUnaligned' : 'rowGrad';
  return { stats, loss, grad: gradKernel, rowWeights: null };
}

/** The kernels of a choice, compiled (each on its first use). */
export async function rowKernelsOf(kernels: Kernels, variant: RowVariant, choice: RowKernelChoice):
  Promise<RowKernelChoice<Kernel>> {
  const compile = (name: RowKernelName | null) => (name === null ? null : kernels.row(variant, name));
  const [stats, loss, grad, rowWeights] = await Promise.all([compile(choice.stats), kernels.row(variant, choice.loss),
    compile(choice.grad), compile(choice.rowWeights)]);
  return { stats, loss, grad, rowWeights };
}

/**
 * One cross-entropy call's GPU work, prepared once: buffers, uniforms and bind groups are made here,
 * so encoding it again (the same shape and inputs, the next training step) creates nothing.
 */
export interface PreparedCrossEntropy {
  readonly encoded: EncodedCrossEntropy;
  /** Queue writes that must precede each run: status reset, poison, the empty-batch loss. */
  reset(): void;
  /** Encodes every piece, the reduction and the gradient into `encoder` (logits on the GPU). */
  encode(encoder: GPUCommandEncoder): void;
  /**
   * For logits streamed from the host (plan.streamed): uploads each piece into the one piece
   * buffer and submits its work, then submits the reduction (`finish`, if given, appends to its
   * encoder). GPU memory stays bounded.
   */
  stream(logits: Float32Array, finish?: (encoder: GPUCommandEncoder) => void): void;
  /**
   * Submits the work now: streamed from the host `logits` when the plan says so, else encoded.
   * `finish`, if given, appends its commands to the last command buffer (after all the work).
   */
  submit(logits: Float32Array | GPUBuffer, finish?: (encoder: GPUCommandEncoder) => void): void;
}

/** `{ buffer, offset, size }` of rows [piece.firstRow, +piece.rows) of an array with `bytesPerRow`. */
function rowRange(buffer: GPUBuffer, piece: Piece, bytesPerRow: number) {
  return { buffer, offset: piece.firstRow * bytesPerRow, size: Math.max(ELEMENT_BYTES, piece.rows * bytesPerRow) };
}

export function prepareCrossEntropy(device: GPUDevice, kernels: Kernels, rowKernels: RowKernelChoice<Kernel>,
  buffers: CallBuffers, problem: Problem, plan: WorkPlan, inputs: CrossEntropyInputs, flags: EncodeFlags,
): PreparedCrossEntropy {
  const placeholder = buffers.placeholder();
  const weight = inputs.weight === undefined ? placeholder : { buffer: inputs.weight, size: plan.classes * ELEMENT_BYTES };
  const divide = problem.reduction === 'mean' ? Divide.byWeight : Divide.none;
  const lastLevel = plan.reduceLevels.length - 1;
  const pieceCount = plan.pieces.length;
  const { stats: statsKernel, loss: lossKernel, grad: gradKernel, rowWeights: rowWeightsKernel } = rowKernels;
  const fused = gradInLoss(plan, problem.grad);
  // row-loss-grad's 'mean' gradient needs the denominator first: the row weights reduced on their own.
  const denominatorFirst = fused && problem.reduction === 'mean';
  const uniforms = uniformBlocks(device, device.limits.minUniformBufferOffsetAlignment,
    (bytes, usage) => buffers.create('params', bytes, usage), [
      ...plan.pieces.map((piece) => rowParams(problem, plan, piece, {
        classOffset: flags.classOffset, sharded: flags.sharded, hasGradOutput: inputs.gradOutput !== undefined,
      })),
      ...plan.reduceLevels.map((level, i) => reduceParams(level, i === lastLevel ? divide : Divide.none)),
      ...(denominatorFirst ? plan.reduceLevels.map((level) => reduceParams(level, Divide.none)) : []),
    ]);
  const levels = uniforms.slice(pieceCount, pieceCount + plan.reduceLevels.length);
  const denominatorLevels = uniforms.slice(pieceCount + plan.reduceLevels.length);

  const largestPiece = Math.max(...plan.pieces.map((p) => p.rows));
  const scanInLoss = scansInLoss(plan);
  // Chunk states between row-stats and row-loss; none when row-loss scans its rows itself.
  const partials = scanInLoss ? null : buffers.output('row-states', largestPiece * plan.chunks * ROW_STATE_BYTES);
  const rowLoss = buffers.output('row-loss', reductionInputBytes(plan.rows));
  const rowWeight = buffers.output('row-weight', reductionInputBytes(plan.rows));
  const rowSummary = fused ? null : buffers.output('row-summary', plan.rows * ROW_SUMMARY_BYTES);
  const status = buffers.output('status', STATUS_BYTES);
  const elements = plan.rows * plan.classes;
  const rowBytes = plan.classes * ELEMENT_BYTES;
  let gradBuffer: GPUBuffer | undefined;
  if (problem.grad) gradBuffer = flags.gradInPlace ? inputs.logits : buffers.output('grad', elements * ELEMENT_BYTES);

  // The batch reduction: levels of (loss, weight) partial sums, the last one dividing for 'mean'.
  const reduceChain = (name: string, uniformsOf: readonly GPUBufferBinding[], inLoss: GPUBuffer) => {
    const dispatches: (PreparedDispatch | null)[] = [];
    let loss = inLoss;
    let lossWeight = rowWeight;
    plan.reduceLevels.forEach((level, i) => {
      const outLoss = buffers.output(`${name}-loss-${i}`, reductionInputBytes(level.outputs));
      const outWeight = buffers.output(`${name}-weight-${i}`, reductionInputBytes(level.outputs));
      dispatches.push(prepareDispatch(device, kernels.batchReduce, level.outputs, [uniformsOf[i]!, loss, lossWeight,
        outLoss, outWeight]));
      loss = outLoss;
      lossWeight = outWeight;
    });
    return { dispatches, loss, lossWeight };
  };
  // Before row-loss-grad: the 'mean' denominator, the same sum of the same row weights as the loss's.
  const denominator = denominatorFirst ? reduceChain('denominator', denominatorLevels, rowWeight) : null;
  const batch = reduceChain('batch', levels, rowLoss);
  // What the gradient is scaled by: the 'mean' denominator, or the upstream gradient of 'none'.
  const scaleInput = (piece: Piece) => (problem.reduction === 'mean' ? (denominator ?? batch).lossWeight
    : inputs.gradOutput ? rowRange(inputs.gradOutput, piece, ELEMENT_BYTES) : placeholder);

  // The subgroup form of row-stats runs a workgroup (one subgroup) per chunk.
  const statsInvocationsPerChunk = statsKernel !== null && statsBySubgroup(plan, kernels.subgroupSize > 0)
    ? statsKernel.workgroupSize : 1;

  // Per piece: its slice of every per-row and per-element array (a streamed piece's logits start
  // at 0 of the piece buffer). Kernels declare both target arrays; the unused one gets the placeholder.
  const rowWork = plan.pieces.map((piece, p) => {
    const logits = plan.streamed ? { buffer: inputs.logits, offset: 0, size: Math.max(ELEMENT_BYTES, piece.rows * rowBytes) }
      : rowRange(inputs.logits, piece, rowBytes);
    const classTarget = problem.targetKind === 'classIndex' ? rowRange(inputs.target, piece, ELEMENT_BYTES) : placeholder;
    const probabilityTarget = problem.targetKind === 'probabilities' ? rowRange(inputs.target, piece, rowBytes) : placeholder;
    // The gradient kernels read the input from `grad` when it is written in place.
    const gradInput = flags.gradInPlace ? placeholder : logits;
    const invocations = plan.lanes ? piece.rows / LANES : piece.rows;
    const rowWeightRange = rowRange(rowWeight, piece, ELEMENT_BYTES);
    const rowWeights = rowWeightsKernel === null ? null : prepareDispatch(device, rowWeightsKernel, piece.rows,
      [uniforms[p]!, null, classTarget, null, weight, null, null, rowWeightRange]);
    let loss: PreparedDispatch | null;
    if (fused) {
      loss = prepareDispatch(device, lossKernel, invocations, [uniforms[p]!, gradInput, classTarget, probabilityTarget,
        weight, null, rowRange(rowLoss, piece, ELEMENT_BYTES), null, null, status,
        rowRange(gradBuffer!, piece, rowBytes), scaleInput(piece)]);
    } else {
      loss = prepareDispatch(device, lossKernel, invocations, [uniforms[p]!, scanInLoss ? logits : null, classTarget,
        scanInLoss ? probabilityTarget : null, weight, partials, rowRange(rowLoss, piece, ELEMENT_BYTES), rowWeightRange,
        rowRange(rowSummary!, piece, ROW_SUMMARY_BYTES), status]);
    }
    const stats = statsKernel === null ? null : prepareDispatch(device, statsKernel,
      piece.rows * plan.chunks * statsInvocationsPerChunk, [uniforms[p]!, logits, classTarget, probabilityTarget, weight,
        partials]);
    const grad = gradBuffer === undefined || gradKernel === null ? null : prepareDispatch(device, gradKernel,
      piece.rows * plan.chunks, [uniforms[p]!, gradInput, classTarget, probabilityTarget, weight, null, null, null,
        rowRange(rowSummary!, piece, ROW_SUMMARY_BYTES), null, rowRange(gradBuffer, piece, rowBytes), scaleInput(piece)]);
    return { piece, rowWeights, stats: [stats, loss], grad };
  });

  const resetStatus = new Uint32Array([0, NO_BAD_ROW]);
  // No rows: PyTorch's 'mean' is 0 / 0 = NaN and 'sum' is 0; no reduction level runs.
  const emptyLoss = plan.rows === 0 && problem.reduction !== 'none'
    ? new Float32Array([problem.reduction === 'mean' ? NaN : 0]) : null;
  const prepared: PreparedCrossEntropy = {
    encoded: { loss: batch.loss, grad: gradBuffer, status, rowLoss, rowSummary },
    reset: () => {
      buffers.poisonOutputs();
      device.queue.writeBuffer(status, 0, resetStatus);
      if (emptyLoss) device.queue.writeBuffer(batch.loss, 0, emptyLoss);
    },
    // Every piece's row weights and their sum come before the first row's gradient needs it.
    encode: (encoder) => encodeDispatches(encoder, 'cross-entropy:forward', [...rowWork.map((w) => w.rowWeights),
      ...(denominator?.dispatches ?? []), ...rowWork.flatMap((w) => w.stats), ...batch.dispatches,
      ...rowWork.map((w) => w.grad)]),
    stream: (logits, finish) => {
      for (const w of rowWork) {
        // Queue order: this write lands after the previous piece's submitted work has read the buffer.
        const from = w.piece.firstRow * plan.classes;
        const slice = logits.subarray(from, from + w.piece.rows * plan.classes);
        device.queue.writeBuffer(inputs.logits, 0, slice.buffer, slice.byteOffset, slice.byteLength);
        const encoder = device.createCommandEncoder({ label: 'cross-entropy:piece' });
        encodeDispatches(encoder, 'cross-entropy:piece', w.stats);
        device.queue.submit([encoder.finish()]);
      }
      const encoder = device.createCommandEncoder({ label: 'cross-entropy:reduce' });
      encodeDispatches(encoder, 'cross-entropy:reduce', batch.dispatches);
      finish?.(encoder);
      device.queue.submit([encoder.finish()]);
    },
    submit: (logits, finish) => {
      if (plan.streamed) {
        prepared.stream(logits as Float32Array, finish);
        return;
      }
      const encoder = device.createCommandEncoder({ label: 'cross-entropy' });
      prepared.encode(encoder);
      finish?.(encoder);
      device.queue.submit([encoder.finish()]);
    },
  };
  return prepared;
}
