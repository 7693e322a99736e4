/**
 * Concurrency and reuse: many forward() calls in flight at once on one instance (the pool of
 * prepared calls hands each its own buffers), repeated calls, and 10,000 sequential calls that
 * leave the GPU memory the instance holds flat (and nothing after destroy()).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference } from '../../src/index.js';
import { buildCase, type CaseSpec } from '../../problems/cases.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { onGpu } from '../helpers/gpu-inputs.js';
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

  it('10,000 sequential calls of mixed shapes and options leave GPU memory flat, and destroy() frees it all', async () => {
    const CALLS = 10_000;
    const WARM_UP = 100;
    const CHECK_EVERY = 1000;
    const own = await CrossEntropy.create({ device: device! });
    // Six prepared-call keys (under the pool's eight), so after warm-up nothing is made or evicted.
    const specs: CaseSpec[] = [
      { shape: [3, 5], targetKind: 'classIndex', reduction: 'mean', weighted: false, labelSmoothing: 0,
        ignoredFraction: 0.2, values: 'normal', seed: 1, grad: true },
      { shape: [4, 7], targetKind: 'classIndex', reduction: 'sum', weighted: true, labelSmoothing: 0.1,
        ignoredFraction: 0, values: 'masked', seed: 2 },
      { shape: [2, 3, 2], targetKind: 'probabilities', reduction: 'none', weighted: false, labelSmoothing: 0,
        ignoredFraction: 0, values: 'normal', seed: 3, grad: true },
      { shape: [6], targetKind: 'classIndex', reduction: 'mean', weighted: false, labelSmoothing: 0.2,
        ignoredFraction: 0, values: 'pm88', seed: 4, zLoss: 1e-3 },
    ];
    const cases = specs.map(buildCase);
    const references = cases.map((c) => crossEntropyReference(c.logits, c.target, c.options));
    const resident = [onGpu(device!, cases[0]!), onGpu(device!, cases[2]!)];
    const gpuReferences = [references[0]!, references[2]!];
    try {
      let warm = own.gpuMemory();
      for (let i = 0; i < CALLS; i++) {
        const kind = i % 6;
        if (kind < 4) {
          const c = cases[kind]!;
          expectMatchesReference(await own.forward(c.logits, c.target, c.options), references[kind]!, `call ${i}`);
        } else {
          // forwardGpu on GPUBuffers, read back and destroyed: the result's buffers go back to the pool.
          const g = resident[kind - 4]!;
          const run = await own.forwardGpu(g.logits, g.target, g.options);
          expectMatchesReference(await run.read(), gpuReferences[kind - 4]!, `call ${i}`);
          run.destroy();
        }
        if (i + 1 === WARM_UP) warm = own.gpuMemory();
        if ((i + 1) % CHECK_EVERY === 0) expect(own.gpuMemory(), `after call ${i + 1}`).toEqual(warm);
      }
      expect(warm.buffers).toBeGreaterThan(0);
      own.destroy();
      expect(own.gpuMemory()).toEqual({ buffers: 0, bytes: 0 });
    } finally {
      own.destroy();
      resident.forEach((g) => g.destroy());
    }
  });
});
