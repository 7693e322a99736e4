/**
 * How every suite of the benchmark times its candidates (docs/performance.md, Method): each call
 * inside error scopes on the shared device, warm-ups first, then rounds in which every candidate
 * runs once, interleaved, each round starting one candidate later; the median of the timed calls.
 */
import { afterErrorScopes, WebGpuError } from '../src/gpu/error-scopes.js';
import type { Dtype } from '../src/index.js';

/** Something to time: one call returns the value its result is checked by (a loss, a checksum). */
export interface TimedCandidate {
  readonly name: string;
  /** The dtype of what it reads (the logits; the linear head's hidden states and classifier). */
  readonly dtype: Dtype;
  readonly run: () => Promise<number>;
}

/**
 * How many rounds after how many warm-ups. A peer whose first warm-up call takes longer than
 * slowLimitMs is not timed in every round: its warm-ups stop there and it takes part in the first
 * `slowRounds` rounds only (absent or 0: none, its first call's time is all there is).
 */
export interface TimingConfig {
  readonly rounds: number;
  readonly warmup: number;
  readonly slowLimitMs: number;
  readonly slowRounds?: number;
}

/** What timing a shape's candidates found, by candidate (names repeat across dtypes). */
export interface Timings<C extends TimedCandidate = TimedCandidate> {
  readonly times: Map<C, number[]>;
  readonly results: Map<C, number>;
  readonly firsts: Map<C, number>;
  readonly failed: Map<C, string>;
  /**
   * Peers too slow to time in every round: timed in the first `slowRounds` rounds, or else in
   * `failed` too (their one call's value still in `results`).
   */
  readonly slow: Set<C>;
}

/** The first line of what a failed call threw: WebGPU's own message for a WebGPU error. */
export function failure(error: unknown): string {
  const message = error instanceof WebGpuError ? (error.cause as GPUError).message
    : error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!;
}

/**
 * Runs one call of a candidate inside error scopes on the shared device, so a WebGPU error that a
 * peer (TF.js runs on this device) causes is that candidate's failure. Only the call is timed.
 */
async function timed(device: GPUDevice, run: () => Promise<number>): Promise<{ value: number; ms: number }> {
  return afterErrorScopes(device, 'bench', async () => {
    const start = performance.now();
    const value = await run();
    return { value, ms: performance.now() - start };
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A candidate's name as progress shows it: the dtype named when it is 16-bit. */
function displayName(candidate: TimedCandidate): string {
  return candidate.dtype === 'float32' ? candidate.name : `${candidate.name} (${candidate.dtype})`;
}

/** Candidates that are not ours, a floor or a reference: timed only when one call is fast enough. */
function isPeer(name: string): boolean {
  return name !== 'cpu-reference' && !name.startsWith('ours') && !name.startsWith('roofline') && !name.startsWith('floor')
    && !name.startsWith('matmul-floor');
}

/**
 * Warms each candidate up, then times `config.rounds` rounds of every candidate, interleaved. Each
 * warm-up and each round is one step of `progress`.
 */
export async function timeCandidates<C extends TimedCandidate>(device: GPUDevice, candidates: readonly C[],
  config: TimingConfig, progress: (message: string, step: number) => void): Promise<Timings<C>> {
  const timings: Timings<C> = { times: new Map(), results: new Map(), firsts: new Map(), failed: new Map(), slow: new Set() };
  let step = 0;
  for (const candidate of candidates) {
    progress(`warm-up ${displayName(candidate)}`, step);
    try {
      for (let w = 0; w < config.warmup; w++) {
        const { value, ms } = await timed(device, candidate.run);
        timings.results.set(candidate, value);
        if (w === 0) timings.firsts.set(candidate, ms);
        if (ms > config.slowLimitMs && isPeer(candidate.name)) {
          timings.slow.add(candidate);
          if (!config.slowRounds) {
            timings.failed.set(candidate, `too slow to time ${config.rounds} rounds: one call took ${ms.toFixed(0)} ms`);
          }
          break;
        }
      }
    } catch (error) {
      timings.failed.set(candidate, failure(error));
    }
    timings.times.set(candidate, []);
    step++;
  }
  for (let round = 0; round < config.rounds; round++) {
    progress(`round ${round + 1}/${config.rounds}`, step);
    // Each round starts one candidate later: at small shapes the first call of a round (after the
    // last one's readback) is the slow one.
    const start = round % candidates.length;
    for (const candidate of [...candidates.slice(start), ...candidates.slice(0, start)]) {
      if (timings.failed.has(candidate) || (timings.slow.has(candidate) && round >= config.slowRounds!)) continue;
      try {
        const { value, ms } = await timed(device, candidate.run);
        timings.results.set(candidate, value);
        timings.times.get(candidate)!.push(ms);
      } catch (error) {
        timings.failed.set(candidate, failure(error));
      }
    }
    step++;
  }
  return timings;
}
