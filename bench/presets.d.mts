/** A benchmark run: which shapes, how many timed rounds after how many warm-ups. */
export interface BenchConfig {
  readonly shapes: number[][];
  readonly rounds: number;
  readonly warmup: number;
  /** A peer whose single warm-up call takes longer than this is reported as too slow, not timed. */
  readonly slowLimitMs: number;
}
export declare const ALL_SHAPES: number[][];
export declare const QUICK_SHAPES: number[][];
export declare const FULL_RUN: BenchConfig;
export declare const SHORT_RUN: BenchConfig;
export declare function parseShapes(text: string): number[][];
