/**
 * The demo's preprocessing of a drawn digit (demo/digit-image.ts), without a browser: MNIST's
 * recipe (the ink's box scaled to fit 20 × 20 with its aspect kept, averaged so edges are grey, the
 * centre of mass placed at pixel (14, 14) of 28 × 28), checked on shapes whose answer is known and on
 * training digits drawn ten times larger; and the model's probabilities for an image.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { centreOfMass, classify, inkBox, mnistImage, MNIST_BOX, MNIST_CENTRE, MNIST_SIZE, type Ink } from '../../demo/digit-image.js';

const PAD = 280;
const { resolve } = createRequire(import.meta.url);

/** A PAD × PAD drawing with ink 1 on the rectangle [x0, x1) × [y0, y1). */
function rectangle(x0: number, x1: number, y0: number, y1: number): Ink {
  const values = new Float32Array(PAD * PAD);
  for (let y = y0; y < y1; y++) values.fill(1, y * PAD + x0, y * PAD + x1);
  return { values, width: PAD, height: PAD };
}

const asInk = (values: ArrayLike<number>): Ink => ({ values, width: MNIST_SIZE, height: MNIST_SIZE });
const mass = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);

describe('mnistImage', () => {
  it('an empty drawing gives nothing', () => {
    expect(mnistImage({ values: new Float32Array(PAD * PAD), width: PAD, height: PAD })).toBeNull();
  });

  it.each([
    { name: 'a tall bar off to the right (30 × 150 pixels)', x: [200, 230], y: [40, 190], side: 150, width: 4, height: 20 },
    { name: 'a wide bar near the top (200 × 20 pixels)', x: [20, 220], y: [10, 30], side: 200, width: 20, height: 2 },
    { name: 'a small square (10 × 10 pixels), scaled up', x: [5, 15], y: [250, 260], side: 10, width: 20, height: 20 },
  ])('$name: its longer side made 20 pixels, aspect kept, centred by mass at (14, 14)', ({ x, y, side, width, height }) => {
    const image = mnistImage(rectangle(x[0]!, x[1]!, y[0]!, y[1]!))!;
    expect(image).toHaveLength(MNIST_SIZE * MNIST_SIZE);
    const scale = MNIST_BOX / side;
    // Area averaging keeps the ink: the rectangle's area times scale².
    expect(mass(image)).toBeCloseTo((x[1]! - x[0]!) * (y[1]! - y[0]!) * scale ** 2, 4);
    expect(Math.max(...image)).toBeCloseTo(1, 6);
    expect(Math.min(...image)).toBeGreaterThanOrEqual(0);
    const centre = centreOfMass(asInk(image))!;
    expect(centre.x).toBeCloseTo(MNIST_CENTRE, 6);
    expect(centre.y).toBeCloseTo(MNIST_CENTRE, 6);
    // The box it covers: its size in pixels, or one more where its edges fall inside pixels.
    const box = inkBox(asInk(image))!;
    expect(box.x1 - box.x0 + 1 - width).toBeGreaterThanOrEqual(0);
    expect(box.x1 - box.x0 + 1 - width).toBeLessThanOrEqual(1);
    expect(box.y1 - box.y0 + 1 - height).toBeGreaterThanOrEqual(0);
    expect(box.y1 - box.y0 + 1 - height).toBeLessThanOrEqual(1);
  });

  it('training digits drawn ten times larger come back with their mass, centred at (14, 14)', () => {
    for (let digit = 0; digit < 10; digit++) {
      const { data } = JSON.parse(readFileSync(resolve(`mnist/src/digits/${digit}.json`), 'utf8')) as { data: number[] };
      for (let k = 0; k < 20; k++) {
        const original = data.slice(k * MNIST_SIZE ** 2, (k + 1) * MNIST_SIZE ** 2);
        const values = new Float32Array(PAD * PAD).map((_, i) => original[Math.floor(i / PAD / 10) * MNIST_SIZE + Math.floor((i % PAD) / 10)]!);
        const image = mnistImage({ values, width: PAD, height: PAD })!;
        const box = inkBox(asInk(image))!;
        if (box.x0 === 0 || box.y0 === 0 || box.x1 === MNIST_SIZE - 1 || box.y1 === MNIST_SIZE - 1) continue; // cut at an edge
        const from = inkBox(asInk(original))!;
        const side = Math.max(from.x1 - from.x0 + 1, from.y1 - from.y0 + 1);
        const where = `digit ${k} of class ${digit}`;
        expect(mass(image) / (mass(original) * (MNIST_BOX / side) ** 2), where).toBeCloseTo(1, 5);
        const centre = centreOfMass(asInk(image))!;
        expect(Math.abs(centre.x - MNIST_CENTRE), where).toBeLessThan(0.2);
        expect(Math.abs(centre.y - MNIST_CENTRE), where).toBeLessThan(0.2);
        // The training digits were centred by whole pixels: theirs lie within a pixel of 14.
        const own = centreOfMass(asInk(original))!;
        expect(Math.abs(own.x - MNIST_CENTRE), where).toBeLessThan(1);
        expect(Math.abs(own.y - MNIST_CENTRE), where).toBeLessThan(1);
      }
    }
  });
});

describe('classify', () => {
  it('gives W·x + b and its softmax, in float64', () => {
    // Three classes over four pixels.
    const weight = Float32Array.from([1, 0, 0, 0, 0, 2, 0, 0, -1, -1, -1, -1]);
    const bias = Float32Array.from([0.5, 0, 1]);
    const { logits, probabilities } = classify({ weight, bias }, [1, 0.5, 0, 0.25]);
    expect(logits).toEqual([1.5, 1, 1 - 1.75]);
    const e = logits.map(Math.exp);
    const sum = e.reduce((a, b) => a + b, 0);
    probabilities.forEach((p, c) => expect(p).toBeCloseTo(e[c]! / sum, 15));
    expect(mass(probabilities)).toBeCloseTo(1, 15);
  });
});
