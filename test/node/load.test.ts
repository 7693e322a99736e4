/**
 * Concurrency and reuse: many forward() calls in flight at once on one instance (the pool of
 * prepared calls hands each its own buffers), and repeated calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference } from '../../src/index.js';
import { buildCase, type CaseSpec } from '../helpers/cases.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { requireDevice } from '../helpers/webgpu-node.js';

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
