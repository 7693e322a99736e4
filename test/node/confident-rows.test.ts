/**
 * Rows where one class takes nearly all the probability: the gradient of that class is a small
 * difference, p_c S - coef_c with p_c = 1 - q and q tiny, and an f32 evaluation of p_c loses q's
 * digits (p_c = 0.99999 holds q to 3 digits). Each case is derived by hand, in float64, from
 * q = e^-gap (1 + ...), and checked against it and the reference at DESIGN.md §4's tolerance,
 * through every row kernel: one chunk (scalar and vec4), several chunks, and the subgroup form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference } from '../../src/index.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

/** DESIGN.md §4's gradient tolerance. */
const GRAD_ATOL = 1e-6;
const GRAD_RTOL = 1e-4;

interface ConfidentRow {
  classes: number;
  /** The class holding the row's max, `gap` above every other logit (all 0). */
  top: number;
  gap: number;
  targetClass: number;
  weight: Float32Array;
  labelSmoothing: number;
  reduction: 'mean' | 'sum';
}

/**
 * The gradient of one row of zeros but for `top` = gap, class-index target, from the closed form
 * with q = 1 - p_top: k ((1-eps) w_y (p_c - [c=y]) + (eps/C)(p_c sum w - w_c)), k = 1 for 'sum'
 * and 1 / w_y for the 'mean' of one row.
 */
function handDerivedGradient(row: ConfidentRow): Float64Array {
  const { classes, top, gap, targetClass, weight } = row;
  const eps = row.labelSmoothing;
  const tail = (classes - 1) * Math.exp(-gap);
  const q = tail / (1 + tail);
  const pOther = Math.exp(-gap) / (1 + tail);
  const w = (c: number) => weight[c]!;
  const totalWeight = weight.reduce((a, b) => a + b, 0);
  const otherWeight = totalWeight - w(top);
  const k = row.reduction === 'mean' ? 1 / w(targetClass) : 1;
  return Float64Array.from({ length: classes }, (_, c) => {
    const isTarget = c === targetClass ? 1 : 0;
    if (c === top) {
      // p - [c=y] and p sum w - w_c, written without the cancellation: 1 - p = q.
      const own = isTarget ? -q : 1 - q;
      return k * ((1 - eps) * w(targetClass) * own + (eps / classes) * ((1 - q) * otherWeight - w(top) * q));
    }
    return k * ((1 - eps) * w(targetClass) * (pOther - isTarget) + (eps / classes) * (pOther * totalWeight - w(c)));
  });
}

function confidentRow(classes: number, gap: number, weights: (c: number) => number, labelSmoothing = 0,
                      targetClass = 1, top = 1, reduction: 'mean' | 'sum' = 'sum'): ConfidentRow {
  return { classes, top, gap, targetClass, weight: Float32Array.from({ length: classes }, (_, c) => weights(c)),
           labelSmoothing, reduction };
}

// The fuzzer's weights (seed 42752728): a 'mean' over a target of weight 1e-6 scales by 1e6.
const FUZZED_WEIGHTS = [0, 0.008081752806901932, 0, 0, 0, 0, 1e-6];

const CASES: Array<[string, ConfidentRow]> = [
  ['a heavy class predicted with p = 1 - 1e-5', confidentRow(2, 11.5, (c) => (c === 1 ? 1000 : 1))],
  ['smoothing, the top class 8000x heavier than the rest', confidentRow(7, 7.7, (c) => FUZZED_WEIGHTS[c]!, 0.22, 6, 1, 'mean')],
  ['smoothing 1, a gap of 11.5: the weight sum needs more than f32', confidentRow(7, 11.5, (c) => FUZZED_WEIGHTS[c]!, 1, 6, 1, 'mean')],
  ['smoothing 1, the target is the top class', confidentRow(5, 14, (c) => (c === 1 ? 3 : 1e-3), 1)],
  ['4,096 classes (vec4, one chunk)', confidentRow(4096, 22, (c) => (c === 7 ? 50 : 1), 0.1, 7, 7)],
  ['4,097 classes (scalar, several chunks)', confidentRow(4097, 22, (c) => (c === 4000 ? 50 : 1), 0.1, 4000, 4000)],
  ['65,536 classes (vec4, several chunks)', confidentRow(65536, 25, (c) => (c === 60000 ? 1e4 : 1), 0, 60000, 60000)],
];

const FORMS = device?.features.has('subgroups') ? [false, true] : [false];

describe.skipIf(!device).each(FORMS.map((subgroups) => ({ subgroups })))('confident rows, subgroups: $subgroups', ({ subgroups }) => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true, subgroups });
  });
  afterAll(() => ce?.destroy());

  it.each(CASES)('%s', async (_label, row) => {
    const logits = { data: Float32Array.from({ length: row.classes }, (_, c) => (c === row.top ? row.gap : 0)), shape: [1, row.classes] };
    const target = { data: Int32Array.of(row.targetClass), shape: [1] };
    const options = { reduction: row.reduction, grad: true, labelSmoothing: row.labelSmoothing, weight: row.weight };
    const gpu = await ce.forward(logits, target, options);
    const reference = crossEntropyReference(logits, target, options);
    expectMatchesReference(gpu, reference);

    const expected = handDerivedGradient(row);
    const worst = expected.reduce((bad, value, c) => {
      const error = Math.abs(gpu.grad![c]! - value);
      return error > GRAD_ATOL + GRAD_RTOL * Math.abs(value) && error > bad.error ? { c, error, value } : bad;
    }, { c: -1, error: 0, value: 0 });
    expect(worst, `class ${worst.c}: ${gpu.grad![worst.c]} vs ${worst.value}`).toEqual({ c: -1, error: 0, value: 0 });
  });
});
