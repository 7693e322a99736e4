// The benchmark's runs, shared by the runner (bench/run.ts) and the demo page's benchmark view.
import type { Dtype, HalfDtype } from '../src/index.js';

/**
 * A benchmark run: which shapes, in which dtypes, how many timed rounds after how many warm-ups.
 * Each dtype is a suite of its own; at a shape that several suites time, all their candidates are
 * timed in the same rounds, interleaved, so their times compare.
 */
export interface BenchConfig {
  /** The shapes timed with float32 logits, by every implementation (empty: that suite does not run). */
  readonly shapes: number[][];
  /**
   * The shapes timed with 16-bit logits, in each of `halfDtypes`: ours and the 16-bit rooflines
   * only, as the peers have no 16-bit path. Absent (as the demo page's runs): none.
   */
  readonly halfShapes?: number[][];
  /** The 16-bit dtypes timed at `halfShapes` (absent: both). */
  readonly halfDtypes?: readonly HalfDtype[];
  readonly rounds: number;
  readonly warmup: number;
  /** A peer whose single warm-up call takes longer than this is reported as too slow, not timed. */
  readonly slowLimitMs: number;
  /** The linear suite (bench/linear.ts), timed with the same rounds and warm-ups; absent: it does not run. */
  readonly linear?: LinearSuiteConfig;
}

/**
 * A shape of the linear suite: [N, D, V], the memoryBudget ours is given there (absent: the
 * default), and the dtypes timed there (absent: all of the suite's).
 */
export interface LinearBenchShape {
  readonly shape: readonly [number, number, number];
  readonly memoryBudget?: number;
  readonly dtypes?: readonly LinearDtype[];
}

/** The dtypes of the linear suite's hidden states and classifier. */
export type LinearDtype = 'float32' | 'float16';
export const LINEAR_DTYPES: readonly LinearDtype[] = ['float32', 'float16'];

/** The linear suite: its shapes, dtypes, the GFLOPS pair's products [M, K, P], and its peers' slow limit. */
export interface LinearSuiteConfig {
  readonly shapes: readonly LinearBenchShape[];
  readonly dtypes: readonly LinearDtype[];
  /** Our logits product [M, K] · [P, K]ᵀ against tf.matMul's, at each [M, K, P]. */
  readonly matmulShapes: readonly (readonly [number, number, number])[];
  /**
   * A peer whose first call takes longer than this (TF.js: tens of seconds here) is timed in
   * `slowRounds` rounds only, after that one warm-up call.
   */
  readonly slowLimitMs: number;
  readonly slowRounds: number;
}

/** The shapes of docs/performance.md: every one a full run times. */
export const ALL_SHAPES: number[][] = [
  [1, 3], [64, 1000], [4096, 1000], [256, 32000], [32, 128256], [8, 21, 128, 128],
  [1024, 32000], [2048, 32000], [4096, 32000],
];

/** Small shapes, for a smoke run. */
export const QUICK_SHAPES: number[][] = [[1, 3], [64, 1000], [4096, 1000], [8, 21, 32, 32]];

/**
 * The shapes a full run times with 16-bit logits, beside their float32 rows: a classifier, two
 * language-model vocabularies, and [2048, 32000], whose float32 logits exceed one binding and
 * whose 16-bit ones (131 MB) fit one.
 */
export const HALF_SHAPES: number[][] = [[4096, 1000], [256, 32000], [32, 128256], [1024, 32000], [2048, 32000]];

/** Small shapes for a smoke run of the 16-bit suites; [1, 3] has an odd count of values, half a word at its end. */
export const QUICK_HALF_SHAPES: number[][] = [[1, 3], [64, 1000], [4096, 1000]];

export const HALF_DTYPES: readonly HalfDtype[] = ['float16', 'bfloat16'];
export const DTYPES: readonly Dtype[] = ['float32', ...HALF_DTYPES];

/**
 * A peer whose one call takes longer than slowLimitMs is reported with that call's time instead of
 * every timed round, which keeps a full run within minutes.
 */
const SLOW_LIMIT_MS = 2_500;

/** A full run: 7 timed rounds after 2 warm-ups (at least 7, as docs/performance.md's method asks), every suite. */
export const FULL_RUN: BenchConfig = {
  shapes: ALL_SHAPES, halfShapes: HALF_SHAPES, halfDtypes: HALF_DTYPES, rounds: 7, warmup: 2, slowLimitMs: SLOW_LIMIT_MS,
};

/** A short run for the demo page: small shapes, 3 timed rounds after 1 warm-up. Not for the README. */
export const SHORT_RUN: BenchConfig = { shapes: QUICK_SHAPES, rounds: 3, warmup: 1, slowLimitMs: SLOW_LIMIT_MS };

/**
 * The linear suite of docs/performance.md (`npm run bench -- --suite linear`), sized to a software
 * adapter, where one step (6·N·D·V floating-point operations of products) takes seconds: GPT-2's
 * vocabulary and Llama 3's, each with 16-bit inputs too; and 1,024 rows at GPT-2's vocabulary,
 * whose logits (206 MB) exceed one binding, with ours given a memoryBudget of 16 MiB (chunks of 64
 * rows): where the memory target is held. D is small there so that a step stays within seconds.
 */
export const LINEAR_SUITE: LinearSuiteConfig = {
  shapes: [
    { shape: [32, 64, 50257] },
    { shape: [32, 64, 128256] },
    { shape: [1024, 8, 50257], memoryBudget: 16 * 2 ** 20, dtypes: ['float32'] },
  ],
  dtypes: LINEAR_DTYPES,
  matmulShapes: [[256, 128, 4096]],
  slowLimitMs: 10_000,
  slowRounds: 1,
};

/** A smoke run of the linear suite: small vocabularies. */
export const QUICK_LINEAR_SUITE: LinearSuiteConfig = {
  shapes: [{ shape: [64, 32, 4099] }, { shape: [128, 16, 1000], memoryBudget: 64 * 1000 * 4 }],
  dtypes: LINEAR_DTYPES,
  matmulShapes: [[64, 64, 1024]],
  slowLimitMs: 10_000,
  slowRounds: 1,
};

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

/** Parses "float16,bfloat16" into dtypes; throws a RangeError naming an unknown one. */
export function parseDtypes(text: string): Dtype[] {
  const dtypes = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (dtypes.length === 0) throw new RangeError(`--dtypes: expected some of ${DTYPES.join(', ')}`);
  return dtypes.map((dtype) => {
    if (!(DTYPES as readonly string[]).includes(dtype)) throw new RangeError(`dtype "${dtype}": expected one of ${DTYPES.join(', ')}`);
    return dtype as Dtype;
  });
}
