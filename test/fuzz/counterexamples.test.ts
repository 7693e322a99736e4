/**
 * Every case a 100,000-case fuzz run stopped on, kept once its cause was fixed: each must meet
 * the tolerances of docs/accuracy.md against the reference on every run of `npm test`, whatever
 * seed finds the next one.
 * Non-finite numbers are written as the strings "Infinity", "-Infinity" and "NaN".
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy } from '../../src/index.js';
import { requireDevice } from '../helpers/webgpu-node.js';
import { checkCase, type FuzzCase } from './properties.js';

const device = await requireDevice();

interface Counterexample {
  seed: number;
  found: string;
  why: string;
  case: FuzzCase;
}

const NON_FINITE: Readonly<Record<string, number>> = { 'Infinity': Infinity, '-Infinity': -Infinity, 'NaN': NaN };
const counterexamples: Counterexample[] = JSON.parse(
  readFileSync(new URL('../fixtures/fuzz-counterexamples.json', import.meta.url), 'utf8'),
  (_key, value: unknown) => (typeof value === 'string' && value in NON_FINITE ? NON_FINITE[value] : value),
);

describe.skipIf(!device)('the fuzzer\'s counterexamples', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it.each(counterexamples.map((c) => [`seed ${c.seed}: ${c.why}`, c] as const))('%s', async (_label, c) => {
    expect(await checkCase(ce, c.case)).toBeNull();
  });
});
