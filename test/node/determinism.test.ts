/**
 * Bit-identical reruns (docs/accuracy.md) for every shape of the test matrix, with the kernels this
 * adapter gets by default and, where the device has subgroups, with their subgroup form: the same
 * inputs give the same bits of loss and gradient, with another call run in between (so buffers
 * are reused in another order). Pieces over one binding and streaming from the host are rerun in
 * large.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy } from '../../src/index.js';
import { buildCase, caseName, type CaseSpec } from '../../problems/cases.js';
import { MATRIX_SHAPES } from '../helpers/matrix-shapes.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

function specsFor(shape: readonly number[], seed: number): CaseSpec[] {
  return [
    { shape, targetKind: 'classIndex', reduction: 'mean', weighted: true, labelSmoothing: 0.1, ignoredFraction: 0.2,
      values: 'normal', seed, grad: true },
    { shape, targetKind: 'probabilities', reduction: 'sum', weighted: false, labelSmoothing: 0, ignoredFraction: 0,
      values: 'pm1e4', seed: seed + 1, grad: true },
    { shape, targetKind: 'classIndex', reduction: 'none', weighted: false, labelSmoothing: 0, ignoredFraction: 0.1,
      values: 'masked', seed: seed + 2, grad: true, zLoss: 1e-3 },
  ];
}

/** The bits of a result: loss and gradient as one array of u32. */
function bitsOf(result: { loss: number | Float32Array; grad?: Float32Array }): Uint32Array {
  const loss = typeof result.loss === 'number' ? new Float32Array([result.loss]) : result.loss;
  const grad = result.grad ?? new Float32Array(0);
  const all = new Float32Array(loss.length + grad.length);
  all.set(loss);
  all.set(grad, loss.length);
  return new Uint32Array(all.buffer);
}

const forms = [{ name: 'default kernels', subgroups: undefined as boolean | undefined }];
if (device?.features.has('subgroups')) forms.push({ name: 'subgroups', subgroups: true });

describe.skipIf(!device).each(forms)('bit-identical reruns, $name', ({ subgroups }) => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, subgroups });
  });
  afterAll(() => ce?.destroy());

  const between = buildCase({ shape: [9, 7], targetKind: 'classIndex', reduction: 'mean', weighted: false,
    labelSmoothing: 0, ignoredFraction: 0, values: 'normal', seed: 1, grad: true });
  const specs = MATRIX_SHAPES.flatMap((shape, i) => specsFor(shape, 7000 + 10 * i));
  it.each(specs.map((spec) => ({ spec, name: caseName(spec) })))('$name', async ({ spec }) => {
    const c = buildCase(spec);
    const first = bitsOf(await ce.forward(c.logits, c.target, c.options));
    await ce.forward(between.logits, between.target, between.options);
    // A fresh copy of the inputs: the same values, not the same arrays.
    const again = buildCase(spec);
    const second = bitsOf(await ce.forward(again.logits, again.target, again.options));
    expect(second.length).toBe(first.length);
    const differing = first.findIndex((bits, i) => bits !== second[i]);
    expect(differing, `first differing element: ${differing}`).toBe(-1);
  });
});
