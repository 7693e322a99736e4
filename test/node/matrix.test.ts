/**
 * GPU against the float64 reference over a seeded, parameterised matrix, loss and gradient: shapes
 * from one class to 262,144 classes and from one row to more than 65,535 rows, K-dimensional
 * layouts, every option crossed (z-loss and softcap included), and extreme values (±88, ±1e4,
 * ±1e30, large nearly-equal logits, -inf masks). Odd seeds pass every input as a GPUBuffer (the
 * gradient then goes to a new, poisoned buffer); even seeds pass host arrays (gradient in place).
 * Shapes whose row statistics have a subgroup form run once more with `subgroups: true`.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CrossEntropy, crossEntropyReference, type Reduction } from '../../src/index.js';
import { VEC4_MIN_CLASSES } from '../../src/plan.js';
import { buildCase, caseName, type CaseSpec, type Values } from '../../problems/cases.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { onGpu } from '../helpers/gpu-inputs.js';
import { MATRIX_SHAPES as SHAPES } from '../helpers/matrix-shapes.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();


const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** Every option combination on normal logits. */
function optionMatrix(shape: readonly number[], seed: number): CaseSpec[] {
  const specs: CaseSpec[] = [];
  for (const reduction of REDUCTIONS) {
    for (const weighted of [false, true]) {
      for (const labelSmoothing of [0, 0.1]) {
        for (const ignoredFraction of [0, 0.3]) {
          specs.push({ shape, targetKind: 'classIndex', reduction, weighted, labelSmoothing, ignoredFraction,
            values: 'normal', seed: seed++, grad: true });
        }
        specs.push({ shape, targetKind: 'probabilities', reduction, weighted, labelSmoothing, ignoredFraction: 0,
          values: 'normal', seed: seed++, grad: true });
      }
    }
    for (const input of ['probabilities', 'logProbabilities'] as const) {
      specs.push({ shape, targetKind: 'classIndex', input, reduction, weighted: true, labelSmoothing: 0.2,
        ignoredFraction: 0.2, values: 'normal', seed: seed++, grad: true });
      specs.push({ shape, targetKind: 'probabilities', input, reduction, weighted: false, labelSmoothing: 0,
        ignoredFraction: 0, values: 'normal', seed: seed++, grad: true });
    }
    for (const targetKind of ['classIndex', 'probabilities'] as const) {
      specs.push({ shape, targetKind, reduction, weighted: true, labelSmoothing: 0.1, ignoredFraction: 0.1,
        values: 'normal', seed: seed++, grad: true, zLoss: 1e-3, softcap: 4 });
      specs.push({ shape, targetKind, reduction, weighted: false, labelSmoothing: 0, ignoredFraction: 0,
        values: 'pm88', seed: seed++, grad: true, zLoss: 0.01 });
    }
    // Softcap alone: the scans' common walk (class indices, no smoothing) transforms its values too.
    specs.push({ shape, targetKind: 'classIndex', reduction, weighted: false, labelSmoothing: 0, ignoredFraction: 0.1,
      values: 'pm88', seed: seed++, grad: true, softcap: 30 });
    specs.push({ shape, targetKind: 'classIndex', reduction, weighted: false, labelSmoothing: 0, ignoredFraction: 0.2,
      values: 'normal', seed: seed++ });
  }
  return specs;
}

/** Extreme value distributions with a few option combinations each. */
function extremeMatrix(shape: readonly number[], seed: number): CaseSpec[] {
  const specs: CaseSpec[] = [];
  const extremes: readonly Values[] = ['pm88', 'pm1e4', 'pm1e30', 'nearlyEqual', 'masked'];
  for (const values of extremes) {
    for (const reduction of REDUCTIONS) {
      specs.push({ shape, targetKind: 'classIndex', reduction, weighted: false, labelSmoothing: 0,
        ignoredFraction: 0.1, values, seed: seed++, grad: true });
      specs.push({ shape, targetKind: 'classIndex', reduction, weighted: true, labelSmoothing: 0.3,
        ignoredFraction: 0, values, seed: seed++, grad: true });
      specs.push({ shape, targetKind: 'probabilities', reduction, weighted: true, labelSmoothing: 0.1,
        ignoredFraction: 0, values, seed: seed++, grad: true });
    }
  }
  return specs;
}

/**
 * Contiguous rows a multiple of 4 long, not scanned as scalars: where row-stats has a subgroup form
 * (row-stats-subgroup.wgsl).
 */
function hasSubgroupForm(shape: readonly number[]): boolean {
  return shape.length === 2 && shape[1]! % 4 === 0 && shape[1]! >= VEC4_MIN_CLASSES;
}

// Every shape with the kernels this adapter gets by default (on SwiftShader: no subgroups), and the
// shapes the subgroup form applies to again with it forced on, when the device has subgroups.
const RUNS = SHAPES.map((shape, i) => ({ shape, seed: 1000 * (i + 1), subgroups: undefined as boolean | undefined }));
if (device?.features.has('subgroups')) {
  RUNS.push(...RUNS.filter((run) => hasSubgroupForm(run.shape)).map((run) => ({ ...run, subgroups: true })));
}

describe.skipIf(!device).each(RUNS.map((run) => ({ ...run, form: run.subgroups ? 'subgroups' : 'default kernels' })))(
  'logits $shape, $form', ({ shape, seed, subgroups }) => {
    let ce: CrossEntropy;
    beforeAll(async () => {
      ce = await CrossEntropy.create({ device: device!, poisonOutputs: true, subgroups });
    });
    afterAll(() => ce?.destroy());

    const specs = [...optionMatrix(shape, seed), ...extremeMatrix(shape, seed + 500)];
    it.each(specs.map((spec) => ({ spec, name: caseName(spec) })))('$name', async ({ spec, name }) => {
      const built = buildCase(spec);
      const reference = crossEntropyReference(built.logits, built.target, built.options);
      if (spec.seed % 2 === 0) {
        expectMatchesReference(await ce.forward(built.logits, built.target, built.options), reference, name);
        return;
      }
      const gpu = onGpu(device!, built);
      try {
        expectMatchesReference(await ce.forward(gpu.logits, gpu.target, gpu.options), reference, name);
      } finally {
        gpu.destroy();
      }
    });
  },
);
