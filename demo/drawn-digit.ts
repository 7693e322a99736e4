/**
 * The Train view's "your digit" card: a pad to draw on, the 28 × 28 image the model reads
 * (digit-image.ts), the model's ten probabilities as bars, and the cross-entropy −log p_y for the
 * class the reader says it is (the model's guess until one is chosen), written out with the single
 * example's formula (formula.ts). The loss is the library's float64 reference on the logits.
 *
 * #train-draw-result carries the figures at full precision: data-state (empty, done), data-logits,
 * data-probabilities, data-guess, data-target, data-loss, data-trained.
 */
import type { Chart } from 'chart.js';
import { crossEntropyReference } from '../src/index.js';
import { barChart, COLORS, setBars } from './charts.js';
import { classify, mnistImage, type LinearParameters } from './digit-image.js';
import { byId } from './dom.js';
import { DrawPad } from './draw-pad.js';
import { formatNumber } from './format.js';
import { lossFormula } from './formula.js';

const CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** The target select's value for "the model's guess". */
const GUESS = '';

/** An image's pixels (0 background, 1 ink) drawn dark on white onto a canvas of its size. */
export function paintDigit(canvas: HTMLCanvasElement, image: ArrayLike<number> | null): void {
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < canvas.width * canvas.height; i++) {
    const shade = Math.round(255 * (1 - (image?.[i] ?? 0)));
    pixels.data.set([shade, shade, shade, 255], i * 4);
  }
  context.putImageData(pixels, 0, 0);
}

export class DrawnDigitPanel {
  readonly #pad: DrawPad;
  readonly #chart: Chart<'bar'>;
  readonly #target = byId<HTMLSelectElement>('train-draw-target');
  readonly #result = byId('train-draw-result');
  /** The model's parameters; null before any training (every weight 0). */
  #parameters: LinearParameters | null = null;

  constructor() {
    this.#chart = barChart(byId<HTMLCanvasElement>('train-draw-chart'), { yTitle: 'p', min: 0, max: 1 });
    this.#pad = new DrawPad(byId<HTMLCanvasElement>('train-draw'), () => this.#update());
    this.#target.append(new Option("the model's guess", GUESS), ...CLASS_NAMES.map((name, c) => new Option(name, String(c))));
    this.#target.addEventListener('change', () => this.#update());
    byId('train-draw-clear').addEventListener('click', () => {
      this.#target.value = GUESS;
      this.#pad.clear();
    });
    this.#update();
  }

  /** New parameters (after an epoch or a pause), or null for a model not yet trained. */
  set parameters(parameters: LinearParameters | null) {
    this.#parameters = parameters;
    this.#update();
  }

  #update(): void {
    const image = this.#pad.empty ? null : mnistImage(this.#pad.ink());
    paintDigit(byId<HTMLCanvasElement>('train-draw-input'), image);
    const note = byId('train-draw-note');
    const formula = byId('train-draw-formula');
    if (image === null) {
      Object.assign(this.#result.dataset, { state: 'empty', probabilities: '', logits: '', loss: '' });
      this.#result.textContent = '—';
      formula.replaceChildren();
      note.textContent = 'Draw a digit on the pad.';
      this.#target.options[0]!.text = "the model's guess";
      setBars(this.#chart, CLASS_NAMES, [], []);
      return;
    }
    const parameters = this.#parameters ?? untrained(image.length, CLASS_NAMES.length);
    const { logits, probabilities } = classify(parameters, image);
    const guess = probabilities.indexOf(Math.max(...probabilities));
    const target = this.#target.value === GUESS ? guess : Number(this.#target.value);
    const loss = crossEntropyReference({ data: Float64Array.from(logits), shape: [logits.length] },
      { data: Int32Array.of(target), shape: [] }).loss as number;
    this.#target.options[0]!.text = `the model's guess (${guess})`;
    Object.assign(this.#result.dataset, {
      state: 'done', trained: String(this.#parameters !== null), logits: JSON.stringify(logits),
      probabilities: JSON.stringify(probabilities), guess: String(guess), target: String(target), loss: String(loss),
    });
    this.#result.textContent = formatNumber(loss, 9);
    formula.innerHTML = lossFormula({ classNames: CLASS_NAMES, enteredAs: 'probabilities', values: probabilities, target },
      probabilities, loss);
    note.textContent = this.#parameters === null
      ? 'The model is not trained yet (every weight 0): each class gets 0.1. Train it above.'
      : `The model reads it as a ${guess} (p = ${formatNumber(probabilities[guess]!, 4)}).`;
    setBars(this.#chart, CLASS_NAMES, probabilities,
      CLASS_NAMES.map((_, c) => (c === target ? COLORS.accent : COLORS.primary)));
  }
}

/** The parameters of a model before its first step: all zero. */
function untrained(pixels: number, classes: number): LinearParameters {
  return { weight: new Float32Array(classes * pixels), bias: new Float32Array(classes) };
}
