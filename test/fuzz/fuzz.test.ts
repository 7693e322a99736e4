/**
 * Fuzzing against the float64 reference (see properties.ts). `npm test` runs a fixed-seed slice;
 * `npm run fuzz` runs 100,000 cases with a fresh seed. Either prints its seed and how to replay it,
 * and a failure prints fast-check's shrunk counterexample: the failing cases of the smallest batch.
 *   FUZZ_RUNS   cases to run (default 2,000)
 *   FUZZ_SEED   seed (default: fixed for the slice, fresh when FUZZ_RUNS is set)
 *   FUZZ_PATH   fast-check's path of a failure, to replay it directly
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy } from '../../src/index.js';
import { requireDevice } from '../helpers/webgpu-node.js';
import { checkBatch, fuzzCase, type FuzzCase } from './properties.js';

const device = await requireDevice();

/** Cases run at once: enough to overlap one call's submit and readback with another's work. */
const BATCH = 16;
const SLICE_RUNS = 2000;
const SLICE_SEED = 20261122;
// Generous: a timeout only stops a run that hangs (SwiftShader on two cores does about 25 per second).
const MS_PER_CASE_ALLOWED = 100;

const runs = Number(process.env.FUZZ_RUNS ?? SLICE_RUNS);
const seed = Number(process.env.FUZZ_SEED ?? (process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : SLICE_SEED));
const path = process.env.FUZZ_PATH;
const batches = Math.ceil(runs / BATCH);

/** Everything fast-check needs to shrink a failure, and a readable account of the failing cases. */
function describeFailure(batch: readonly FuzzCase[], failures: readonly { index: number; why: string }[]): string {
  return failures.map(({ index, why }) => `case ${index} of the batch: ${fc.stringify(batch[index])}\n${why}`).join('\n\n');
}

describe.skipIf(!device)('fuzz: the GPU against the float64 reference', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it(`${batches * BATCH} cases, seed ${seed}`, async () => {
    console.log(`fuzz: ${batches * BATCH} cases in batches of ${BATCH}, seed ${seed}; `
      + `replay: FUZZ_RUNS=${runs} FUZZ_SEED=${seed} npx vitest run test/fuzz`);
    const started = performance.now();
    const details = await fc.check(
      fc.asyncProperty(fc.array(fuzzCase, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const failures = await checkBatch(ce, batch);
        if (failures.length > 0) throw new Error(describeFailure(batch, failures));
      }),
      { seed, numRuns: batches, ...(path ? { path } : {}), endOnFailure: process.env.FUZZ_NO_SHRINK === "1" },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`fuzz: ${details.numRuns * BATCH} cases in ${seconds.toFixed(1)} s `
      + `(${Math.round((details.numRuns * BATCH) / seconds)} per second), ${details.failed ? 'FAILED' : '0 failures'}`);
    if (details.failed) {
      const shrunk = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(`fuzz failed after ${details.numRuns} batches (seed ${seed}, path ${details.counterexamplePath}; `
        + `replay: FUZZ_RUNS=${runs} FUZZ_SEED=${seed} FUZZ_PATH=${details.counterexamplePath} npx vitest run test/fuzz).\n`
        + `Shrunk counterexample, its failing cases:\n${shrunk}`);
    }
    // A replayed path runs only the batches on it.
    if (!path) expect(details.numRuns).toBe(batches);
  }, Math.max(120_000, runs * MS_PER_CASE_ALLOWED));
});
