/**
 * Rows where one class takes nearly all the probability: the gradient of that class is a small
 * difference, p_c S - coef_c with p_c = 1 - q and q tiny, and an f32 evaluation of p_c loses q's
 * digits (p_c = 0.99999 holds q to 3 digits). Each case is derived by hand, in float64, from
 * q = e^-gap (1 + ...), and checked against it and the reference at docs/accuracy.md's tolerance,
 * through every row kernel: one chunk (scalar and vec4), several chunks, and the subgroup form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference } from '../../src/index.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

/** The gradient tolerance of docs/accuracy.md. */
const GRAD_ATOL = 1e-6;
const GRAD_RTOL = 1e-4;

interface ConfidentRow {
  classes: number;
  /** The class holding the row's max, `gap` above every other logit (all 0). */
  top: number;
  gap: number;
  /** A class index, or a probability per class. */
  target: number | Float32Array;
  weight: Float32Array;
  labelSmoothing: number;
  reduction: 'mean' | 'sum';
}

/** Each class's coefficient in the row loss -sum_c coef_c log p_c (docs/semantics.md), in float64. */
function coefficients(row: ConfidentRow): Float64Array {
  const { classes, target, weight, labelSmoothing: eps } = row;
  return Float64Array.from({ length: classes }, (_, c) => (typeof target === 'number'
    ? (c === target ? (1 - eps) * weight[target]! : 0) + (eps / classes) * weight[c]!
    : weight[c]! * (target[c]! * (1 - eps) + eps / classes)));
}

/**
 * The gradient of one row of zeros but for `top` = gap: k (p_c S - coef_c), S = sum coef, with
 * p_top S - coef_top written without its cancellation, as (S - coef_top) - q S where
 * q = 1 - p_top = (C - 1) e^-gap / (1 + (C - 1) e^-gap). k = 1 for 'sum' and for the 'mean' of one
 * row with probability targets, 1 / w_y for the 'mean' of one row with a class index.
 */
function handDerivedGradient(row: ConfidentRow): Float64Array {
  const { classes, top, gap, target, weight } = row;
  const coef = coefficients(row);
  const total = coef.reduce((a, b) => a + b, 0);
  const others = coef.reduce((a, b, c) => (c === top ? a : a + b), 0);
  const tail = (classes - 1) * Math.exp(-gap);
  const q = tail / (1 + tail);
  const pOther = Math.exp(-gap) / (1 + tail);
  const k = row.reduction === 'mean' && typeof target === 'number' ? 1 / weight[target]! : 1;
  return Float64Array.from({ length: classes }, (_, c) => k * (c === top ? others - q * total : pOther * total - coef[c]!));
}

function confidentRow(classes: number, gap: number, weights: (c: number) => number, labelSmoothing = 0,
                      target: number | Float32Array = 1, top = 1, reduction: 'mean' | 'sum' = 'sum'): ConfidentRow {
  return { classes, top, gap, target, weight: Float32Array.from({ length: classes }, (_, c) => weights(c)),
           labelSmoothing, reduction };
}

/** Probability targets of `classes` classes: `mass` on `at`, the rest spread evenly. */
function mostlyOn(classes: number, at: number, mass: number): Float32Array {
  return Float32Array.from({ length: classes }, (_, c) => (c === at ? mass : (1 - mass) / (classes - 1)));
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
  ['probabilities 1 - 1e-6 on the top class', confidentRow(3, 14, (c) => (c === 1 ? 200 : 1), 0, mostlyOn(3, 1, 1 - 1e-6))],
  ['probabilities, a heavy top class with smoothing', confidentRow(8, 16, (c) => (c === 1 ? 5e3 : 0.5), 0.05, mostlyOn(8, 1, 0.999))],
  ['probabilities, 8,192 classes (vec4, several chunks)', confidentRow(8192, 24, (c) => (c === 5000 ? 1e3 : 1), 0, mostlyOn(8192, 5000, 1 - 1e-7), 5000)],
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
    const target = typeof row.target === 'number'
      ? { data: Int32Array.of(row.target), shape: [1] }
      : { data: row.target, shape: [1, row.classes] };
    const options = { reduction: row.reduction, grad: true, labelSmoothing: row.labelSmoothing, weight: row.weight };
    const gpu = await ce.forward(logits, target, options);
    expectMatchesReference(gpu, crossEntropyReference(logits, target, options));

    const expected = handDerivedGradient(row);
    const worst = expected.reduce((bad, value, c) => {
      const error = Math.abs(gpu.grad![c]! - value);
      return error > GRAD_ATOL + GRAD_RTOL * Math.abs(value) && error > bad.error ? { c, error, value } : bad;
    }, { c: -1, error: 0, value: 0 });
    expect(worst, `class ${worst.c}: ${gpu.grad![worst.c]} vs ${worst.value}`).toEqual({ c: -1, error: 0, value: 0 });
  });

  it('the fuzzer\'s counterexample (seed 42752728): [1, 7, 3, 1] with -inf masks, smoothing 0.22', async () => {
    const minusInf = Number.NEGATIVE_INFINITY;
    const logits = { data: Float32Array.from([minusInf, 0, 0, 7.700814247131348, 0, 0, minusInf, 0, 0, ...new Array<number>(12).fill(0)]),
                     shape: [1, 7, 3, 1] };
    const target = { data: Int32Array.from([0, 6, 0]), shape: [1, 3, 1] };
    const options = { reduction: 'mean' as const, grad: true, labelSmoothing: 0.22021721303462982,
                      weight: Float32Array.from(FUZZED_WEIGHTS) };
    expectMatchesReference(await ce.forward(logits, target, options), crossEntropyReference(logits, target, options));
  });
});
