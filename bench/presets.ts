// The benchmark's runs, shared by the runner (bench/run.mjs) and the demo page's benchmark view.

/** A benchmark run: which shapes, how many timed rounds after how many warm-ups. */
export interface BenchConfig {
  readonly shapes: number[][];
  readonly rounds: number;
  readonly warmup: number;
  /** A peer whose single warm-up call takes longer than this is reported as too slow, not timed. */
  readonly slowLimitMs: number;
}

/** The shapes of docs/performance.md: every one a full run times. */
export const ALL_SHAPES: number[][] = [
  [1, 3], [64, 1000], [4096, 1000], [256, 32000], [32, 128256], [8, 21, 128, 128],
  [1024, 32000], [2048, 32000], [4096, 32000],
];

/** Small shapes, for a smoke run. */
export const QUICK_SHAPES: number[][] = [[1, 3], [64, 1000], [4096, 1000], [8, 21, 32, 32]];

/**
 * A peer whose one call takes longer than slowLimitMs is reported with that call's time instead of
 * every timed round, which keeps a full run under 10 minutes.
 */
const SLOW_LIMIT_MS = 2_500;

/** A full run: 7 timed rounds after 2 warm-ups (at least 7, as docs/performance.md's method asks). */
export const FULL_RUN: BenchConfig = { shapes: ALL_SHAPES, rounds: 7, warmup: 2, slowLimitMs: SLOW_LIMIT_MS };

/** A short run for the demo page: small shapes, 3 timed rounds after 1 warm-up. Not for the README. */
export const SHORT_RUN: BenchConfig = { shapes: QUICK_SHAPES, rounds: 3, warmup: 1, slowLimitMs: SLOW_LIMIT_MS };

/** Parses "64x1000,8x21x32x32" into shapes; throws a RangeError naming a malformed entry. */
export function parseShapes(text: string): number[][] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const shape = entry.split(/[x×]/).map((d) => Number(d.trim()));
    if (shape.length < 1 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new RangeError(`shape "${entry}": expected positive integers joined by x, such as 64x1000`);
    }
    return shape;
  });
}
