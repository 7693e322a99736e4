/**
 * Type tests, checked by `npm run typecheck` (tsc over test/; nothing here runs): what the options
 * literal says about the result. `grad: true` makes `grad` a Float32Array (no `!` needed), no `grad`
 * makes it undefined, and `reduction: 'none'` makes the loss a Float32Array, a number otherwise.
 */
import { expectTypeOf } from 'vitest';
import {
  compareWithReference, CrossEntropy, crossEntropyReference, describeComparison, type CrossEntropyOptions,
  type ForwardResult, type GpuForwardResult, type LogitsInput, type Reduction, type TargetInput,
} from '../../src/index.js';

declare const ce: CrossEntropy;
declare const logits: LogitsInput;
declare const target: TargetInput;
declare const someReduction: Reduction;
declare const someGrad: boolean;
declare const someOptions: CrossEntropyOptions;

export async function forwardTypes(): Promise<void> {
  const plain = await ce.forward(logits, target);
  expectTypeOf(plain.loss).toEqualTypeOf<number>();
  expectTypeOf(plain.grad).toEqualTypeOf<undefined>();

  const withGrad = await ce.forward(logits, target, { grad: true });
  expectTypeOf(withGrad.loss).toEqualTypeOf<number>();
  expectTypeOf(withGrad.grad).toEqualTypeOf<Float32Array>();
  withGrad.grad.fill(0);

  const rows = await ce.forward(logits, target, { reduction: 'none', grad: true, gradOutput: new Float32Array(2) });
  expectTypeOf(rows.loss).toEqualTypeOf<Float32Array>();
  expectTypeOf(rows.grad).toEqualTypeOf<Float32Array>();

  const summed = await ce.forward(logits, target, { reduction: 'sum', grad: false, labelSmoothing: 0.1 });
  expectTypeOf(summed.loss).toEqualTypeOf<number>();
  expectTypeOf(summed.grad).toEqualTypeOf<undefined>();

  // Known only when running: both possibilities.
  const either = await ce.forward(logits, target, { reduction: someReduction, grad: someGrad });
  expectTypeOf(either.loss).toEqualTypeOf<number | Float32Array>();
  expectTypeOf(either.grad).toEqualTypeOf<Float32Array | undefined>();
  const fromObject = await ce.forward(logits, target, someOptions);
  expectTypeOf(fromObject.loss).toEqualTypeOf<number | Float32Array>();
  expectTypeOf(fromObject.grad).toEqualTypeOf<Float32Array | undefined>();

  // @ts-expect-error: without grad: true there is no gradient to use.
  plain.grad.fill(0);
  // @ts-expect-error: a reduced loss is a number.
  withGrad.loss.fill(0);
  // @ts-expect-error: forwardGpu's option.
  await ce.forward(logits, target, { encoder: {} as GPUCommandEncoder });
  // @ts-expect-error: not an option at all.
  await ce.forward(logits, target, { label_smoothing: 0.1 });
}

export async function forwardGpuTypes(): Promise<void> {
  const run = await ce.forwardGpu(logits, target, { grad: true });
  expectTypeOf(run.grad).toEqualTypeOf<GPUBuffer>();
  expectTypeOf(run.loss).toEqualTypeOf<GPUBuffer>();
  expectTypeOf((await run.read()).grad).toEqualTypeOf<Float32Array>();
  expectTypeOf((await run.read()).loss).toEqualTypeOf<number>();

  const rows = await ce.forwardGpu(logits, target, { reduction: 'none' });
  expectTypeOf(rows.grad).toEqualTypeOf<undefined>();
  expectTypeOf((await rows.read()).loss).toEqualTypeOf<Float32Array>();

  const unknown: GpuForwardResult = run;
  expectTypeOf(unknown.grad).toEqualTypeOf<GPUBuffer | undefined>();
}

export async function binaryTypes(): Promise<void> {
  const bce = await ce.binary(logits, { data: new Float32Array(6), shape: [2, 3] }, { reduction: 'none', grad: true });
  expectTypeOf(bce.loss).toEqualTypeOf<Float32Array>();
  expectTypeOf(bce.grad).toEqualTypeOf<Float32Array>();
}

export async function comparisonTypes(): Promise<void> {
  const result = await ce.forward(logits, target, { grad: true });
  const check = compareWithReference(result, crossEntropyReference({ data: new Float32Array(6), shape: [2, 3] },
    { data: new Int32Array(2), shape: [2] }, { grad: true }));
  expectTypeOf(describeComparison(check)).toEqualTypeOf<string>();
  expectTypeOf(describeComparison(check.loss)).toEqualTypeOf<string>();
  const anyResult: ForwardResult = result;
  expectTypeOf(anyResult.loss).toEqualTypeOf<number | Float32Array>();
}
