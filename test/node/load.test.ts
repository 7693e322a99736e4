/**
 * Concurrency and reuse: many forward() calls in flight at once on one instance (the pool of
 * prepared calls hands each its own buffers), repeated calls, and a lost device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference } from '../../src/index.js';
import { buildCase, type CaseSpec } from '../helpers/cases.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { requireDefaultLimitsDevice, requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

const SHAPES = [[3, 5], [64, 100], [7, 1030], [2, 5, 4, 3], [130, 10]];

describe.skipIf(!device)('load', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it('64 concurrent calls of mixed shapes all return their own correct results', async () => {
    const specs: CaseSpec[] = Array.from({ length: 64 }, (_, i) => ({
      shape: SHAPES[i % SHAPES.length]!, targetKind: i % 3 === 0 ? 'probabilities' : 'classIndex',
      reduction: (['mean', 'sum', 'none'] as const)[i % 3]!, weighted: i % 2 === 0, labelSmoothing: (i % 4) / 10,
      ignoredFraction: 0.1, values: 'normal', seed: 5000 + i, grad: i % 5 !== 0,
    }));
    const built = specs.map(buildCase);
    const results = await Promise.all(built.map((c) => ce.forward(c.logits, c.target, c.options)));
    results.forEach((result, i) => {
      expectMatchesReference(result, crossEntropyReference(built[i]!.logits, built[i]!.target, built[i]!.options), `call ${i}`);
    });
  });

  it('repeated calls of one shape reuse their prepared call and stay correct', async () => {
    for (let i = 0; i < 50; i++) {
      const c = buildCase({ shape: [16, 40], targetKind: 'classIndex', reduction: 'mean', weighted: false,
        labelSmoothing: 0, ignoredFraction: 0, values: 'normal', seed: 9000 + i, grad: true });
      expectMatchesReference(await ce.forward(c.logits, c.target, c.options),
        crossEntropyReference(c.logits, c.target, c.options), `call ${i}`);
    }
  });
});

describe.skipIf(!device)('a lost device', () => {
  it('fails later calls clearly; a new instance on a new device works', async () => {
    const doomed = (await requireDefaultLimitsDevice())!;
    const ce = await CrossEntropy.create({ device: doomed });
    const c = buildCase({ shape: [8, 10], targetKind: 'classIndex', reduction: 'mean', weighted: false,
      labelSmoothing: 0, ignoredFraction: 0, values: 'normal', seed: 1 });
    expect(typeof (await ce.forward(c.logits, c.target)).loss).toBe('number');
    doomed.destroy();
    await doomed.lost;
    await expect(ce.forward(c.logits, c.target)).rejects.toThrow(/device was lost.*create a new CrossEntropy/);
    const fresh = (await requireDefaultLimitsDevice())!;
    const again = await CrossEntropy.create({ device: fresh });
    expectMatchesReference(await again.forward(c.logits, c.target), crossEntropyReference(c.logits, c.target));
    again.destroy();
    fresh.destroy();
  });
});
