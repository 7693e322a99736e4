/**
 * Row statistics of vocabulary shards: one problem split into shards along the class dimension,
 * each shard's statistics computed on the GPU, merged exactly, and the loss compared with the
 * unsplit GPU result and the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareArrays, CrossEntropy, crossEntropyReference, describeComparison, lossFromRowStatistics,
  mergeRowStatistics, RowTarget, TOLERANCES,
} from '../../src/index.js';
import { buildCase, type Values } from '../../problems/cases.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

/** Columns [from, to) of an [N, C] array. */
function columns(data: Float32Array, rows: number, classes: number, from: number, to: number): Float32Array {
  const out = new Float32Array(rows * (to - from));
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * classes + from, r * classes + to), r * (to - from));
  return out;
}

const CASES: { rows: number; classes: number; cuts: number[]; values: Values; eps: number; weighted: boolean }[] = [
  { rows: 5, classes: 10, cuts: [3, 7], values: 'normal', eps: 0, weighted: false },
  { rows: 64, classes: 1000, cuts: [500], values: 'normal', eps: 0.1, weighted: true },
  { rows: 32, classes: 5000, cuts: [1024, 2049, 4000], values: 'pm1e4', eps: 0.2, weighted: true },
  { rows: 40, classes: 300, cuts: [100, 200], values: 'masked', eps: 0, weighted: false },
];

describe.skipIf(!device)('row statistics of vocabulary shards', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it.each(CASES)('[$rows, $classes] cut at $cuts ($values, eps $eps)', async ({ rows, classes, cuts, values, eps, weighted }) => {
    const built = buildCase({ shape: [rows, classes], targetKind: 'classIndex', reduction: 'none', weighted,
      labelSmoothing: eps, ignoredFraction: 0.1, values, seed: classes });
    const bounds = [0, ...cuts, classes];
    const shards = [];
    for (let k = 0; k + 1 < bounds.length; k++) {
      const [from, to] = [bounds[k]!, bounds[k + 1]!];
      const weight = built.options.weight?.slice(from, to);
      shards.push(await ce.rowStatistics(
        { data: columns(built.logits.data, rows, classes, from, to), shape: [rows, to - from] }, built.target,
        { classOffset: from, ...(weight ? { weight } : {}) }));
    }
    const merged = mergeRowStatistics(shards);
    expect(merged.classes).toBe(classes);
    const whole = await ce.rowStatistics(built.logits, built.target, built.options.weight ? { weight: built.options.weight } : {});
    // The merged max is one of the shards' maxima: exactly the unsplit one.
    expect(Array.from(merged.max)).toEqual(Array.from(whole.max));
    expect(Array.from(merged.target)).toEqual(Array.from(whole.target));

    for (const reduction of ['none', 'mean', 'sum'] as const) {
      const options = { ...built.options, reduction };
      const fromShards = lossFromRowStatistics(merged, { reduction, labelSmoothing: eps });
      const reference = crossEntropyReference(built.logits, built.target, options);
      const unsplit = (await ce.forward(built.logits, built.target, options)).loss;
      const tolerance = reduction === 'none' ? TOLERANCES.rowLoss : { atol: 1e-6, rtol: 1e-5 };
      const vsReference = compareArrays(fromShards, reference.loss, tolerance);
      expect(vsReference.ok, `${reduction} vs reference: ${describeComparison(vsReference)}`).toBe(true);
      const vsUnsplit = compareArrays(fromShards, unsplit, tolerance);
      expect(vsUnsplit.ok, `${reduction} vs unsplit GPU: ${describeComparison(vsUnsplit)}`).toBe(true);
    }
  });

  it('marks rows whose target another shard holds, and ignored rows', async () => {
    const logits = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] };
    const target = { data: new Int32Array([3, -100]), shape: [2] };
    const stats = await ce.rowStatistics(logits, target, { classOffset: 0 });
    expect(Array.from(stats.target)).toEqual([RowTarget.elsewhere, RowTarget.ignored]);
    expect(() => lossFromRowStatistics(stats)).toThrow(/row 0's target class is in none of the merged shards/);
  });

  it('rejects bad options before any GPU work, naming them', async () => {
    const logits = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] };
    const target = { data: new Int32Array([1, 0]), shape: [2] };
    const held = ce.gpuMemory();
    await expect(ce.rowStatistics(logits, target, { classOffset: -1 }))
      .rejects.toThrow(/options\.classOffset must be a non-negative integer, got -1/);
    await expect(ce.rowStatistics(logits, target, { classOffset: 1.5 }))
      .rejects.toThrow(/options\.classOffset must be a non-negative integer, got 1\.5/);
    await expect(ce.rowStatistics(logits, target, { labelSmoothing: 0.1 } as never))
      .rejects.toThrow(/options\.labelSmoothing does not change the statistics; pass it to lossFromRowStatistics/);
    await expect(ce.rowStatistics(logits, target, { offset: 2 } as never))
      .rejects.toThrow(/rowStatistics: unknown option "offset" \(known: classOffset, weight, ignoreIndex, softcap\)/);
    await expect(ce.rowStatistics(logits, { data: new Float32Array([0, 1, 1, 0]), shape: [2, 2] }))
      .rejects.toThrow(/rowStatistics: target must hold class indices/);
    expect(ce.gpuMemory()).toEqual(held);
  });
});
