/** Asserting that a GPU result meets docs/accuracy.md's tolerances against the float64 reference, with a useful message. */
import { expect } from 'vitest';
import { compareWithReference, describeComparison, type ReferenceResult } from '../../src/index.js';

export function expectMatchesReference(
  gpu: { loss: number | Float32Array; grad?: Float32Array | Uint16Array }, reference: ReferenceResult, label = '',
): void {
  const check = compareWithReference(gpu, reference);
  const details = [`loss ${describeComparison(check.loss)}`];
  if (check.grad) details.push(`grad ${describeComparison(check.grad)}`);
  expect(check.ok, `${label}\n${details.join('\n')}`).toBe(true);
}
