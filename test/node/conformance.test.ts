/**
 * External values: the softmax cross-entropy cases of TensorFlow.js's own tests
 * (test/fixtures/tfjs_ce_cases.json) that map onto PyTorch semantics, run on the GPU and in the
 * float64 reference and compared with TF.js's expected numbers. The mapping is in
 * test/helpers/tfjs-cases.ts (shared with the TF.js adapter's browser test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, compareArrays, crossEntropyReference, describeComparison, TOLERANCES } from '../../src/index.js';
import { softmaxCases } from '../helpers/tfjs-cases.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const mapped = softmaxCases;
const device = await requireDevice();

describe('TF.js softmax cross-entropy cases', () => {
  it('maps the expected number of cases (so none is dropped silently)', () => {
    // 6 of tf.losses.softmaxCrossEntropy's 8 (2 use weights PyTorch cannot express) and all 6 Keras ones.
    expect(mapped.map((m) => m.id)).toHaveLength(12);
  });

  it.each(mapped)('reference: $id', (m) => {
    const { loss } = crossEntropyReference(m.logits, m.target, m.options);
    const c = compareArrays(loss, m.expected, { atol: 1e-6, rtol: 1e-6 });
    expect(c.ok, describeComparison(c)).toBe(true);
  });

  describe.skipIf(!device)('on the GPU', () => {
    let ce: CrossEntropy;
    beforeAll(async () => {
      ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
    });
    afterAll(() => ce?.destroy());

    it.each(mapped)('$id', async (m) => {
      const { loss } = await ce.forward(m.logits, m.target, m.options);
      const tolerance = typeof loss === 'number' ? TOLERANCES.reducedLoss : TOLERANCES.rowLoss;
      const c = compareArrays(loss, m.expected, tolerance);
      expect(c.ok, describeComparison(c)).toBe(true);
    });
  });
});
