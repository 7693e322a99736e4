/**
 * What the Train view shows of a model: a grid of test digits with the class it gives each and that
 * class's probability (mistakes marked, with the true class), and the ten rows of W drawn as 28 × 28
 * images. Plain canvases, one per digit or row, scaled up by CSS.
 */
import type { DigitSet } from '../examples/digits/mnist.js';
import { classify, MNIST_SIZE, type LinearParameters } from './digit-image.js';
import { element } from './dom.js';
import { paintDigit } from './drawn-digit.js';

const PIXELS = MNIST_SIZE * MNIST_SIZE;
/** Test digits in the grid. */
export const GRID_DIGITS = 60;

/** Which test digits the grid shows: the first ones, or the first mistakes. */
export type GridChoice = 'first' | 'mistakes';

/** RGB of the page's blue (positive weights) and red (negative ones), as in demo/charts.ts. */
const POSITIVE = [37, 99, 235] as const;
const NEGATIVE = [220, 38, 38] as const;

function digitCanvas(): HTMLCanvasElement {
  const canvas = element('canvas');
  canvas.width = MNIST_SIZE;
  canvas.height = MNIST_SIZE;
  return canvas;
}

/**
 * Fills `grid` with up to GRID_DIGITS test digits, each with its predicted class and that class's
 * probability; returns how many of all the test digits the model gets wrong.
 */
export function showTestDigits(grid: HTMLElement, test: DigitSet, predictions: Int32Array, parameters: LinearParameters,
  choice: GridChoice): { mistakes: number; shown: number } {
  const wrong = (i: number) => predictions[i] !== test.labels[i];
  const all = Array.from({ length: test.count }, (_, i) => i);
  const mistakes = all.filter(wrong);
  const shown = (choice === 'mistakes' ? mistakes : all).slice(0, GRID_DIGITS);
  grid.replaceChildren(...shown.map((i) => {
    const image = test.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    const predicted = predictions[i]!;
    const p = classify(parameters, image).probabilities[predicted]!;
    const figure = element('figure', wrong(i) ? 'digit mistake' : 'digit');
    Object.assign(figure.dataset, { index: String(i), label: String(test.labels[i]), predicted: String(predicted), probability: String(p) });
    const canvas = digitCanvas();
    paintDigit(canvas, image);
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `test digit ${i}, a ${test.labels[i]}`);
    const caption = element('figcaption');
    caption.append(element('strong', '', String(predicted)), ` ${Math.round(p * 100)}%`);
    if (wrong(i)) caption.append(element('span', 'truth', `is ${test.labels[i]}`));
    figure.title = `Test digit ${i}: a ${test.labels[i]}; the model says ${predicted} with p = ${p.toFixed(4)}`;
    figure.append(canvas, caption);
    return figure;
  }));
  return { mistakes: mistakes.length, shown: shown.length };
}

/** A weight row as an image: blue for positive, red for negative, white at 0, scaled by its largest |w|. */
function paintWeights(canvas: HTMLCanvasElement, row: Float32Array): void {
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(MNIST_SIZE, MNIST_SIZE);
  const largest = row.reduce((max, w) => Math.max(max, Math.abs(w)), 0) || 1;
  row.forEach((w, i) => {
    const t = Math.min(1, Math.abs(w) / largest);
    const color = w >= 0 ? POSITIVE : NEGATIVE;
    pixels.data.set([...color.map((c) => Math.round(255 + (c - 255) * t)), 255], i * 4);
  });
  context.putImageData(pixels, 0, 0);
}

/** Fills `grid` with the ten rows of W, one image each, labelled by class. */
export function showWeights(grid: HTMLElement, weight: Float32Array): void {
  const classes = weight.length / PIXELS;
  grid.replaceChildren(...Array.from({ length: classes }, (_, c) => {
    const row = weight.subarray(c * PIXELS, (c + 1) * PIXELS);
    const figure = element('figure', 'weight');
    figure.dataset.class = String(c);
    const canvas = digitCanvas();
    paintWeights(canvas, row);
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `the weights of class ${c}`);
    figure.append(canvas, element('figcaption', '', String(c)));
    return figure;
  }));
}
