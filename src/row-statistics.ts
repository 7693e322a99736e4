/**
 * Row statistics as a public, mergeable result: for each row of a vocabulary shard, the max, the sum
 * of exp(x − max), the weighted distance sum that label smoothing needs, and the target logit where
 * the shard holds the target. Merging shards is an exact log-sum-exp (in float64), so a model whose
 * vocabulary is split across devices or workers gets the same loss as an unsplit one.
 */
import { ROW_SUMMARY } from './gpu/shader-structs.js';
import { readStructField } from './gpu/wgsl-struct.js';
import type { Problem } from './options.js';
import { readOptionNames } from './option-names.js';
import type { Reduction } from './types.js';

/** Where a row's target is, relative to one shard (after merging: relative to all of them). */
export const RowTarget = { here: 0, ignored: 1, elsewhere: 2 } as const;

/** Per-row statistics of one shard, or of several merged. */
export interface RowStatistics {
  readonly rows: number;
  /** Classes covered: the shard's C, or the sum over merged shards. */
  readonly classes: number;
  /** Row max of the (softcapped) logits. */
  readonly max: Float64Array;
  /** Σ_c exp(x_c − max). */
  readonly sumExp: Float64Array;
  /** Σ_c w_c·(max − x_c) (non-negative terms). */
  readonly distanceSum: Float64Array;
  /** Σ_c w_c. */
  readonly weightSum: Float64Array;
  /** x_y where `target[row]` is RowTarget.here. */
  readonly targetLogit: Float64Array;
  /** w_y where `target[row]` is RowTarget.here. */
  readonly targetWeight: Float64Array;
  /** RowTarget.here, .ignored or .elsewhere for each row. */
  readonly target: Uint8Array;
}

/** Options of `CrossEntropy.rowStatistics`. */
export interface RowStatisticsOptions {
  /** The first class of the full vocabulary that this shard holds (default 0). */
  readonly classOffset?: number;
  /** This shard's slice of the per-class weight. */
  readonly weight?: Float32Array | GPUBuffer;
  readonly ignoreIndex?: number;
  readonly softcap?: number;
}

/** Reads row-loss's summaries (lib/row-common.wgsl's RowSummary) into RowStatistics. */
export function readRowStatistics(bytes: ArrayBuffer, problem: Problem): RowStatistics {
  const rows = problem.layout.rows;
  const field = (name: keyof typeof ROW_SUMMARY.fields & string) => readStructField(bytes, ROW_SUMMARY, name, rows);
  const massError = field('mass_error');
  return {
    rows,
    classes: problem.layout.classes,
    max: field('max_value'),
    // 1 + the sum without the max's own term: exact where exp(log_norm) would round it.
    sumExp: field('excess_exp').map((excess) => 1 + excess),
    distanceSum: field('smooth_dist'),
    // With its rounding error, as the GPU carries it.
    weightSum: field('smooth_mass').map((mass, r) => mass + massError[r]!),
    targetLogit: field('target_logit'),
    targetWeight: field('target_weight'),
    target: Uint8Array.from(field('kind')),
  };
}

/** exp(from − to) for re-measuring a state from a larger max; 1 when they are equal (even both −inf). */
function rescale(from: number, to: number): number {
  return from === to ? 1 : Math.exp(from - to);
}

/**
 * Merges the statistics of vocabulary shards (same rows, disjoint classes) exactly.
 *
 * @example
 * const merged = mergeRowStatistics([await ce.rowStatistics(a, t), await ce.rowStatistics(b, t, { classOffset: 500 })]);
 */
export function mergeRowStatistics(shards: readonly RowStatistics[]): RowStatistics {
  if (shards.length === 0) throw new RangeError('mergeRowStatistics: no shards given');
  const rows = shards[0]!.rows;
  shards.forEach((s, i) => {
    if (s.rows !== rows) throw new RangeError(`mergeRowStatistics: shard ${i} has ${s.rows} rows, shard 0 has ${rows}`);
  });
  const out = {
    rows, classes: shards.reduce((sum, s) => sum + s.classes, 0),
    max: new Float64Array(rows), sumExp: new Float64Array(rows), distanceSum: new Float64Array(rows),
    weightSum: new Float64Array(rows), targetLogit: new Float64Array(rows), targetWeight: new Float64Array(rows),
    target: new Uint8Array(rows).fill(RowTarget.elsewhere),
  };
  for (let r = 0; r < rows; r++) {
    const m = shards.reduce((acc, s) => Math.max(acc, s.max[r]!), -Infinity);
    out.max[r] = m;
    for (const s of shards) {
      const shift = s.max[r] === m ? 0 : m - s.max[r]!;
      out.sumExp[r]! += s.sumExp[r]! * rescale(s.max[r]!, m);
      out.distanceSum[r]! += s.distanceSum[r]! + shift * s.weightSum[r]!;
      out.weightSum[r]! += s.weightSum[r]!;
      if (s.target[r] === RowTarget.here) {
        out.target[r] = RowTarget.here;
        out.targetLogit[r] = s.targetLogit[r]!;
        out.targetWeight[r] = s.targetWeight[r]!;
      } else if (s.target[r] === RowTarget.ignored && out.target[r] !== RowTarget.here) {
        out.target[r] = RowTarget.ignored;
      }
    }
  }
  return out;
}

/** Options of `lossFromRowStatistics`. */
export interface RowStatisticsLossOptions {
  readonly reduction?: Reduction;
  readonly labelSmoothing?: number;
  readonly zLoss?: number;
}

/**
 * The cross-entropy loss of merged row statistics (class-index targets), as `forward` gives it.
 *
 * @example
 * const loss = lossFromRowStatistics(mergeRowStatistics(shards), { reduction: 'mean', labelSmoothing: 0.1 });
 */
export function lossFromRowStatistics(stats: RowStatistics, options: RowStatisticsLossOptions = {}): number | Float64Array {
  const read: RowStatisticsLossOptions = readOptionNames(options, 'lossFromRowStatistics');
  const { reduction = 'mean', labelSmoothing: eps = 0, zLoss = 0 } = read;
  const perRow = new Float64Array(stats.rows);
  let denominator = 0;
  for (let r = 0; r < stats.rows; r++) {
    if (stats.target[r] === RowTarget.ignored) continue;
    if (stats.target[r] !== RowTarget.here) {
      throw new RangeError(`lossFromRowStatistics: row ${r}'s target class is in none of the merged shards`);
    }
    const logNorm = Math.log(stats.sumExp[r]!);
    const lse = stats.max[r]! + logNorm;
    const nll = stats.targetWeight[r]! * ((stats.max[r]! - stats.targetLogit[r]!) + logNorm);
    const smoothing = stats.distanceSum[r]! + logNorm * stats.weightSum[r]!;
    perRow[r] = (eps > 0 ? (1 - eps) * nll + (eps / stats.classes) * smoothing : nll) + (zLoss === 0 ? 0 : zLoss * lse * lse);
    denominator += stats.targetWeight[r]!;
  }
  if (reduction === 'none') return perRow;
  const sum = perRow.reduce((a, b) => a + b, 0);
  // A total weight of 0 makes the mean undefined: NaN, as the GPU loss and the reference.
  return reduction === 'sum' ? sum : denominator === 0 ? NaN : sum / denominator;
}
