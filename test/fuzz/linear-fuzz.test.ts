/**
 * Fuzzing the linear head against its float64 reference (see linear-properties.ts). `npm test`
 * runs a fixed-seed slice of 2,000 cases; `npm run fuzz` runs 100,000 with a fresh seed (FUZZ_RUNS,
 * FUZZ_SEED and FUZZ_PATH as in fuzz.test.ts). A failure prints the seed and fast-check's shrunk case.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy } from '../../src/index.js';
import { requireDevice } from '../helpers/webgpu-node.js';
import { checkLinearCase, linearFuzzCase } from './linear-properties.js';

const device = await requireDevice();

/** Cases run at once: one call's readback overlaps another's work and the references. */
const BATCH = 8;
const SLICE_RUNS = 2000;
const SLICE_SEED = 20261207;
// Generous: a timeout only stops a run that hangs.
const MS_PER_CASE_ALLOWED = 200;
const runs = Number(process.env.FUZZ_RUNS ?? SLICE_RUNS);
const seed = Number(process.env.FUZZ_SEED ?? (process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : SLICE_SEED));
const path = process.env.FUZZ_PATH;

describe.skipIf(!device)('fuzz: the linear head against the float64 reference', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it(`${runs} linear cases, seed ${seed}`, async () => {
    console.log(`linear fuzz: ${runs} cases, seed ${seed}; replay: FUZZ_RUNS=${runs} FUZZ_SEED=${seed} `
      + 'npx vitest run test/fuzz/linear-fuzz.test.ts');
    const started = performance.now();
    const batches = Math.ceil(runs / BATCH);
    const details = await fc.check(fc.asyncProperty(fc.array(linearFuzzCase, { minLength: BATCH, maxLength: BATCH }),
      async (batch) => {
        const outcomes = await Promise.all(batch.map((c) => checkLinearCase(ce, c).catch((e: unknown) => `threw ${String(e)}`)));
        const failures = outcomes.flatMap((why, i) => (why === null ? [] : [`case ${i} of the batch: ${fc.stringify(batch[i])}\n${why}`]));
        if (failures.length > 0) throw new Error(failures.join('\n\n'));
      }), { seed, numRuns: batches, ...(path ? { path } : {}) });
    const seconds = (performance.now() - started) / 1000;
    console.log(`linear fuzz: ${details.numRuns * BATCH} cases in ${seconds.toFixed(1)} s, ${details.failed ? 'FAILED' : '0 failures'}`);
    if (details.failed) {
      throw new Error(`linear fuzz failed (seed ${seed}, path ${details.counterexamplePath}; replay: FUZZ_RUNS=${runs} `
        + `FUZZ_SEED=${seed} FUZZ_PATH=${details.counterexamplePath} npx vitest run test/fuzz/linear-fuzz.test.ts).\n`
        + `Shrunk counterexample, its failing cases:\n${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`);
    }
    if (!path) expect(details.numRuns).toBe(batches);
  }, Math.max(120_000, runs * MS_PER_CASE_ALLOWED));
});
