/**
 * How a validated problem is laid out as GPU work: how rows are cut into chunks of classes, how
 * many levels the batch reduction takes, and how workgroup counts fold into a 2-D grid.
 */
import { dtypeBytes } from './half-precision.js';
import type { Problem } from './options.js';

/**
 * Classes one row-stats invocation reads in sequence. Long rows are split into chunks of this many
 * classes (merged exactly by row-loss), so a vocabulary of 262,144 classes keeps 256 invocations
 * busy per row; rows up to this length are read whole by one invocation.
 */
export const CLASS_CHUNK_LEN = 1024;

/**
 * Contiguous rows a multiple of 4 long are read as vec4s from this many classes on. Shorter ones
 * are scanned one class at a time by the loss kernel itself, which also writes their gradient in
 * the same pass: the vec4 walk, made for long rows, is a statistics pass and a merge pass, and its
 * blocked steps mostly run as tails here. The threshold is where the two cost the same on
 * SwiftShader (docs/performance.md, kernel design choices).
 */
export const VEC4_MIN_CLASSES = 40;

/**
 * Rows shorter than this that are not a multiple of 4 long are read one class at a time: their
 * vec4 walk would be a few steps, two of them masked.
 */
export const UNALIGNED_MIN_CLASSES = 64;

/**
 * Values one batch-reduce invocation sums in sequence: each level divides the count by this. A
 * multiple of 4: the kernel reads its values as vec4s.
 */
export const REDUCE_CHUNK_LEN = 64;

/** One level of the batch reduction: `count` values in, one partial sum per `chunk`, `outputs` out. */
export interface ReduceLevel {
  readonly count: number;
  readonly chunk: number;
  readonly outputs: number;
}

/** The GPU work for one problem. */
export interface WorkPlan {
  readonly rows: number;
  readonly classes: number;
  readonly inner: number;
  /** Chunks each row is cut into, and classes per chunk. */
  readonly chunks: number;
  readonly chunkLen: number;
  /**
   * Rows are contiguous, a multiple of 4 long and at least VEC4_MIN_CLASSES: kernels may load
   * vec4s (chunkLen is then a multiple of 4).
   */
  readonly vec4: boolean;
  /**
   * K-dimensional rows one chunk long whose positions per sample (inner) are a multiple of 4:
   * kernels take four neighbouring rows at once, as the lanes of vec4 loads.
   */
  readonly lanes: boolean;
  /**
   * Contiguous rows not a multiple of 4 long, at least UNALIGNED_MIN_CLASSES: row statistics and
   * the gradient read them as vec4s all the same (a vec4 a row shares with its neighbour masked, or
   * owned by one invocation); every piece's logits end on a vec4 boundary (rows × C a multiple of 4).
   */
  readonly unaligned: boolean;
  /** Levels of the batch reduction, first to last; empty for reduction 'none'. */
  readonly reduceLevels: readonly ReduceLevel[];
  /** Row ranges processed one at a time, each within one storage binding (one piece if all fit). */
  readonly pieces: readonly Piece[];
  /** The logits come from the host in pieces through one bounded buffer (over maxBufferSize). */
  readonly streamed: boolean;
}

/** Rows [firstRow, firstRow + rows): whole samples, starting at an aligned byte offset. */
export interface Piece {
  readonly firstRow: number;
  readonly rows: number;
}

/** The device limits a plan depends on. */
export interface PlanLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly minStorageBufferOffsetAlignment: number;
}

/** Bytes of one streamed piece at most: bounded GPU memory, large enough to keep the GPU busy. */
export const STREAM_PIECE_BYTES = 64 * 1024 * 1024;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

/**
 * Cuts the rows into pieces whose N·C slice of the logits fits `limitBytes`. A piece holds whole
 * samples (K-dim rows of one sample interleave) and starts at a row whose offset, in the logits
 * and in every per-row array, is a multiple of the device's storage offset alignment.
 */
export function planPieces(problem: Problem, limitBytes: number, alignment: number): Piece[] {
  const { rows, classes, inner } = problem.layout;
  const samples = rows / inner;
  const sampleBytes = classes * inner * dtypeBytes(problem.dtype);
  if (rows === 0 || samples * sampleBytes <= limitBytes) return [{ firstRow: 0, rows }];
  // Row offsets times 4 bytes (each per-row record, and f32 logits) must be aligned, and sample
  // offsets times a sample's bytes (16-bit logits): step in rows, then in samples.
  const rowStep = alignment / gcd(alignment, 4);
  const sampleStep = lcm(rowStep / gcd(rowStep, inner), alignment / gcd(alignment, sampleBytes));
  const samplesPerPiece = Math.floor(limitBytes / sampleBytes / sampleStep) * sampleStep;
  if (samplesPerPiece === 0) {
    throw new RangeError(`one piece of ${sampleStep} samples of logits (${sampleStep * sampleBytes} bytes) exceeds `
      + `this device's storage binding limit (${limitBytes} bytes)`);
  }
  const pieces: Piece[] = [];
  for (let n = 0; n < samples; n += samplesPerPiece) {
    pieces.push({ firstRow: n * inner, rows: Math.min(samplesPerPiece, samples - n) * inner });
  }
  return pieces;
}

/**
 * Plans the work of a problem on a device. `hostLogits` says the logits come from a host array,
 * which is streamed in pieces when it exceeds one buffer.
 */
export function planWork(problem: Problem, limits: PlanLimits, hostLogits = false): WorkPlan {
  const { rows, classes, inner } = problem.layout;
  const vec4 = inner === 1 && classes % 4 === 0 && classes >= VEC4_MIN_CLASSES;
  const chunks = Math.ceil(classes / CLASS_CHUNK_LEN);
  const balanced = Math.ceil(classes / chunks);
  const chunkLen = vec4 ? Math.ceil(balanced / 4) * 4 : balanced;
  const reduceLevels = problem.reduction === 'none' ? [] : planReduction(rows);
  const logitsBytes = rows * classes * dtypeBytes(problem.dtype);
  const streamed = hostLogits && logitsBytes > limits.maxBufferSize;
  const pieceLimit = streamed ? Math.min(STREAM_PIECE_BYTES, limits.maxStorageBufferBindingSize)
    : limits.maxStorageBufferBindingSize;
  const pieces = planPieces(problem, pieceLimit, limits.minStorageBufferOffsetAlignment);
  const chunkCount = Math.ceil(classes / chunkLen);
  const lanes = inner > 1 && inner % 4 === 0 && chunkCount === 1;
  const unaligned = inner === 1 && !vec4 && classes >= UNALIGNED_MIN_CLASSES
    && pieces.every((piece) => (piece.rows * classes) % 4 === 0);
  return { rows, classes, inner, chunks: chunkCount, chunkLen, vec4, lanes, unaligned, reduceLevels, pieces, streamed };
}

/**
 * Bytes of a buffer that a batch-reduce level reads `count` values from: whole vec4s (the level
 * reads them four at a time and masks the lanes past `count`), at least one.
 */
export function reductionInputBytes(count: number): number {
  return Math.max(1, Math.ceil(count / 4)) * 16;
}

/** The levels that reduce `count` values to one, first to last (one level even for 0 or 1 value). */
export function planReduction(count: number): ReduceLevel[] {
  const levels: ReduceLevel[] = [];
  do {
    const outputs = Math.ceil(count / REDUCE_CHUNK_LEN);
    levels.push({ count, chunk: REDUCE_CHUNK_LEN, outputs });
    count = outputs;
  } while (count > 1);
  return levels;
}

/**
 * Workgroups for `invocations` invocations, folded into [x, y] so that neither exceeds the device's
 * maxComputeWorkgroupsPerDimension (kernels rebuild the linear index from num_workgroups).
 */
export function foldWorkgroups(invocations: number, workgroupSize: number, maxPerDimension: number): [number, number] {
  const groups = Math.ceil(invocations / workgroupSize);
  if (groups <= maxPerDimension) return [groups, 1];
  const y = Math.ceil(groups / maxPerDimension);
  if (y > maxPerDimension) {
    throw new RangeError(`${invocations} invocations need ${groups} workgroups, more than this device's `
      + `${maxPerDimension}² (maxComputeWorkgroupsPerDimension squared)`);
  }
  return [Math.ceil(groups / y), y];
}
