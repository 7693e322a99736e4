/**
 * describeComparison summarises both what compareArrays returns and what compareWithReference
 * returns (a loss comparison and maybe a gradient one), the latter being what callers hold.
 */
import { describe, expect, it } from 'vitest';
import { compareArrays, compareWithReference, crossEntropyReference, describeComparison, TOLERANCES } from '../../src/index.js';

const logits = { data: new Float32Array([2, 1, 0.1, 0.5, 2.5, 0.3]), shape: [2, 3] };
const target = { data: new Int32Array([0, 1]), shape: [2] };
const reference = crossEntropyReference(logits, target, { grad: true });
const asF32 = (values: number | Float64Array) => (typeof values === 'number' ? Math.fround(values) : Float32Array.from(values));

describe('describeComparison', () => {
  it('summarises a whole result that matches: the loss and the gradient', () => {
    const check = compareWithReference({ loss: asF32(reference.loss) as number, grad: asF32(reference.grad!) as Float32Array },
      reference);
    expect(check.ok).toBe(true);
    expect(describeComparison(check)).toMatch(
      /^ok: loss ok: 1 values, max abs error \S+, max rel error \S+; grad ok: 6 values, max abs error \S+, max rel error \S+$/);
  });

  it('summarises a result without a gradient, and one that does not match', () => {
    const lossOnly = compareWithReference({ loss: asF32(reference.loss) as number }, reference);
    expect(describeComparison(lossOnly)).toMatch(/^ok: loss ok: 1 values, [^;]*$/);
    const grad = asF32(reference.grad!) as Float32Array;
    grad[4] = 0.5;
    const wrong = compareWithReference({ loss: 1, grad }, reference);
    expect(wrong.ok).toBe(false);
    const text = describeComparison(wrong);
    expect(text).toMatch(/^MISMATCH: loss MISMATCH: 1 values, .*1 outside tolerance, first: \[0\] 1 vs 0\.318/);
    expect(text).toMatch(/; grad MISMATCH: 6 values, .*1 outside tolerance, first: \[4\] 0\.5 vs -0\.098/);
  });

  it('still summarises one comparison of arrays', () => {
    expect(describeComparison(compareArrays([1, 2], [1, 2], TOLERANCES.rowLoss)))
      .toBe('ok: 2 values, max abs error 0.00e+0, max rel error 0.00e+0');
  });

  it('rejects what is neither, saying what it takes', () => {
    expect(() => describeComparison({ ok: true } as never)).toThrow(new TypeError(
      'describeComparison: expected what compareArrays or compareWithReference returns, got object'));
  });
});
