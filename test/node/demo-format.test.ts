/** The demo page's axis labels (demo/format.ts): pure functions, no DOM. */
import { describe, expect, it } from 'vitest';
import { formatAxisRatio, logTickLabel } from '../../demo/format.js';

describe('formatAxisRatio: a ratio as written, no digits padded on or cut off', () => {
  it.each([
    [0.01, '0.01×'], [0.1, '0.1×'], [0.5, '0.5×'], [1, '1×'], [2.5, '2.5×'], [10, '10×'], [20, '20×'],
    [100, '100×'], [200, '200×'], [1000, '1000×'], [1e4, '10000×'],
  ])('%s → %s', (value, label) => {
    expect(formatAxisRatio(value)).toBe(label);
  });

  it("absorbs the floating-point noise of an axis's generated ticks", () => {
    expect(formatAxisRatio(0.1 + 0.2)).toBe('0.3×');
    expect(formatAxisRatio(100.00000000001)).toBe('100×');
    expect(formatAxisRatio(0.7 * 3)).toBe('2.1×');
  });
});

describe('logTickLabel: a log axis labels 1, 2 and 5 times each power of ten', () => {
  it.each([
    [0.01, '0.01×'], [0.1, '0.1×'], [0.2, '0.2×'], [0.5, '0.5×'], [1, '1×'], [2, '2×'], [5, '5×'], [10, '10×'],
    [20, '20×'], [50, '50×'], [100, '100×'], [200, '200×'], [500, '500×'], [1000, '1000×'], [1e4, '10000×'],
  ])('labels %s as %s', (value, label) => {
    expect(logTickLabel(value)).toBe(label);
  });

  it.each([2.5, 3, 4, 7, 30, 300, 0.03, 0.7, 0, -1, Number.NaN])('leaves %s unlabelled', (value) => {
    expect(logTickLabel(value)).toBe('');
  });
});
