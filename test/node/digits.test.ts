/**
 * The digits example (examples/digits/, examples/train-digits.mjs): on real digits of the `mnist`
 * package, ce.linear's gradients of the classifier and bias against the float64 reference; a
 * trainer step's SGD update against the same reference; no GPU buffer made per step; and the Node
 * example end to end, which must reach 0.88 test accuracy.
 *
 * Tolerance: the linear head's (helpers/linear-tolerance.ts), scaled by D / 256 for the images'
 * D = 784 pixels.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CrossEntropy, linearCrossEntropyReference, type LinearReferenceResult, type LinearResult,
} from '../../src/index.js';
import { CLASSES, DigitTrainer, loadDigits, PIXELS, seededRandom, splitDigits } from '../../examples/digits/index.js';
import { linearMismatch } from '../helpers/linear-tolerance.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);
const found = await requireDevice();
// Where there is no device (outside CI) every suite below is skipped.
const device = found as GPUDevice;
// Read with fs: imported, vitest would send the 21 MB of JSON through Vite's transform, much slower.
const { resolve } = createRequire(import.meta.url);
const { train, test } = splitDigits(await loadDigits({
  loadClass: async (digit) => JSON.parse(await readFile(resolve(`mnist/src/digits/${digit}.json`), 'utf8')),
}));
const BATCH = 64;

let ce: CrossEntropy;
beforeAll(async () => {
  if (found) ce = await CrossEntropy.create({ device, poisonOutputs: true });
});
afterAll(() => ce?.destroy());

/** The differences of a step's loss and gradients from the reference beyond the linear head's tolerance. */
function mismatches(loss: number, classifier: ArrayLike<number>, bias: ArrayLike<number>,
  reference: LinearReferenceResult): string | null {
  return linearMismatch({ loss, grad: { classifier, bias } as LinearResult['grad'] }, reference, PIXELS);
}

/** The training digits at `indices`, as the linear head's hidden states and targets. */
function batchOf(indices: ArrayLike<number>) {
  const images = new Float32Array(indices.length * PIXELS);
  const labels = new Int32Array(indices.length);
  Array.from(indices).forEach((digit, row) => {
    images.set(train.images.subarray(digit * PIXELS, (digit + 1) * PIXELS), row * PIXELS);
    labels[row] = train.labels[digit]!;
  });
  return { hidden: { data: images, shape: [indices.length, PIXELS] }, target: { data: labels, shape: [indices.length] } };
}

/** Seeded normal values (Box-Muller) times `scale`. */
function normals(count: number, scale: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count },
    () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()) * scale);
}

describe('the digits and their split', () => {
  it('10,000 digits of 784 pixels in [0, 1], every class, split 8,000 / 2,000', () => {
    expect([train.count, test.count]).toEqual([8000, 2000]);
    for (const set of [train, test]) {
      expect(set.images.length).toBe(set.count * PIXELS);
      expect(new Set(set.labels).size).toBe(CLASSES);
      expect(set.images.every((pixel) => pixel >= 0 && pixel <= 1)).toBe(true);
    }
  });
});

describe.skipIf(!found)('one training step on a real batch of 64 digits', () => {
  it.each([
    ['zero parameters (the first step)', new Float32Array(CLASSES * PIXELS), new Float32Array(CLASSES)],
    ['seeded parameters, classifier N(0, 1/784), bias N(0, 1/4)', normals(CLASSES * PIXELS, 1 / Math.sqrt(PIXELS), 3),
      normals(CLASSES, 0.5, 4)],
  ])('ce.linear: d(classifier) and d(bias) equal the float64 reference, %s', async (_, weight, bias) => {
    const { hidden, target } = batchOf(Array.from({ length: BATCH }, (_, i) => i));
    const classifier = { data: weight, shape: [CLASSES, PIXELS] };
    device.pushErrorScope('validation');
    const result = await ce.linear(hidden, classifier, target, { bias, grad: { classifier: true, bias: true } });
    expect(await device.popErrorScope()).toBeNull();
    const reference = linearCrossEntropyReference(hidden, classifier, target, { bias, grad: { classifier: true, bias: true } });
    expect(result.grad!.hidden).toBeUndefined();
    expect(mismatches(result.loss, result.grad!.classifier!, result.grad!.bias!, reference)).toBeNull();
  });

  it('a trainer step moves the parameters by −learningRate × the reference gradients, twice', async () => {
    const trainer = await DigitTrainer.create(ce, { train, test });
    try {
      let before: { weight: Float32Array; bias: Float32Array } =
        { weight: new Float32Array(CLASSES * PIXELS), bias: new Float32Array(CLASSES) };
      for (let step = 1; step <= 2; step++) {
        const { hidden, target } = batchOf(trainer.nextBatch);
        const reference = linearCrossEntropyReference(hidden, { data: before.weight, shape: [CLASSES, PIXELS] }, target,
          { bias: before.bias, grad: { classifier: true, bias: true } });
        device.pushErrorScope('validation');
        const loss = (await trainer.step({ readLoss: true }))!;
        const after = await trainer.model.read();
        expect(await device.popErrorScope()).toBeNull();
        // The gradient each update applied, in float64 from the f32 parameters before and after.
        const applied = (from: Float32Array, to: Float32Array) => Float64Array.from(to, (value, i) => (from[i]! - value) / 0.5);
        expect(mismatches(loss, applied(before.weight, after.weight), applied(before.bias, after.bias), reference),
          `step ${step}`).toBeNull();
        before = after;
      }
    } finally {
      trainer.destroy();
    }
  });

  it('creates no GPU buffer per step after the first', async () => {
    const trainer = await DigitTrainer.create(ce, { train, test });
    try {
      await trainer.step({ readLoss: true });
      const warm = ce.gpuMemory();
      for (let step = 0; step < 20; step++) await trainer.step({ readLoss: step % 10 === 9 });
      expect(ce.gpuMemory()).toEqual(warm);
    } finally {
      trainer.destroy();
    }
  });
});

describe.skipIf(!found)('examples/train-digits.mjs', () => {
  it('trains three epochs in plain Node and reaches 0.88 test accuracy', async () => {
    expect(existsSync(new URL('dist/index.js', root)), 'run `npm run build` first').toBe(true);
    const { stdout } = await run(process.execPath, ['examples/train-digits.mjs'], { cwd: root, timeout: 100_000 });
    const lines = stdout.trimEnd().split('\n');
    expect(lines.filter((line) => /^epoch \d: mean training loss \d\.\d{4}, test accuracy 0\.\d{4}, [\d.]+ steps\/s$/.test(line)))
      .toHaveLength(3);
    const last = /^test accuracy: (0\.\d{4})$/.exec(lines.at(-1)!);
    expect(last, stdout).not.toBeNull();
    expect(Number(last![1])).toBeGreaterThanOrEqual(0.88);
  });
});
