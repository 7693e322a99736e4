/**
 * How a validated problem is laid out as GPU work: how rows are cut into chunks of classes, how
 * many levels the batch reduction takes, and how workgroup counts fold into a 2-D grid.
 */
import type { Problem } from './options.js';

/**
 * Classes one row-stats invocation reads in sequence. Long rows are split into chunks of this many
 * classes (merged exactly by row-loss), so a vocabulary of 262,144 classes keeps 256 invocations
 * busy per row; rows up to this length are read whole by one invocation.
 */
export const CLASS_CHUNK_LEN = 1024;

/** Values one batch-reduce invocation sums in sequence: each level divides the count by this. */
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
  /** Rows are contiguous and a multiple of 4 long: kernels may load vec4s (chunkLen is then a multiple of 4). */
  readonly vec4: boolean;
  /** Levels of the batch reduction, first to last; empty for reduction 'none'. */
  readonly reduceLevels: readonly ReduceLevel[];
}

/** Plans the work of a problem with at least one row. */
export function planWork(problem: Problem): WorkPlan {
  const { rows, classes, inner } = problem.layout;
  const vec4 = inner === 1 && classes % 4 === 0;
  const chunks = Math.ceil(classes / CLASS_CHUNK_LEN);
  const balanced = Math.ceil(classes / chunks);
  const chunkLen = vec4 ? Math.ceil(balanced / 4) * 4 : balanced;
  const reduceLevels = problem.reduction === 'none' ? [] : planReduction(rows);
  return { rows, classes, inner, chunks: Math.ceil(classes / chunkLen), chunkLen, vec4, reduceLevels };
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
