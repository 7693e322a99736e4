/**
 * A canvas to draw on with a mouse, a finger or a pen (pointer events): round strokes of one width,
 * their ink read back as values in [0, 1] (the canvas's alpha). `onChange` hears every change, at
 * most once a frame while a stroke is drawn, and once when it ends.
 */
import type { Ink } from './digit-image.js';

/**
 * The pen's width as a share of the canvas's side. A digit drawn across most of the pad then has
 * strokes about 2 pixels wide once its box is scaled to 20 pixels, as MNIST's have.
 */
const PEN_SHARE = 0.08;
const INK = '#1f2937';

export class DrawPad {
  readonly #canvas: HTMLCanvasElement;
  readonly #context: CanvasRenderingContext2D;
  readonly #onChange: () => void;
  #last: { x: number; y: number } | null = null;
  #frame = 0;
  #empty = true;

  constructor(canvas: HTMLCanvasElement, onChange: () => void) {
    this.#canvas = canvas;
    this.#context = canvas.getContext('2d', { willReadFrequently: true })!;
    this.#onChange = onChange;
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      canvas.setPointerCapture(event.pointerId);
      this.#last = this.#point(event);
      this.#stroke(this.#last, this.#last);
    });
    canvas.addEventListener('pointermove', (event) => {
      if (this.#last === null) return;
      const point = this.#point(event);
      this.#stroke(this.#last, point);
      this.#last = point;
    });
    for (const end of ['pointerup', 'pointercancel'] as const) {
      canvas.addEventListener(end, () => {
        if (this.#last === null) return;
        this.#last = null;
        cancelAnimationFrame(this.#frame);
        this.#frame = 0;
        this.#onChange();
      });
    }
  }

  /** Whether nothing is drawn. */
  get empty(): boolean {
    return this.#empty;
  }

  /** The ink, one value a canvas pixel. */
  ink(): Ink {
    const { width, height } = this.#canvas;
    const { data } = this.#context.getImageData(0, 0, width, height);
    const values = new Float32Array(width * height);
    for (let i = 0; i < values.length; i++) values[i] = data[i * 4 + 3]! / 255;
    return { values, width, height };
  }

  clear(): void {
    this.#context.clearRect(0, 0, this.#canvas.width, this.#canvas.height);
    this.#empty = true;
    this.#onChange();
  }

  /** A pointer's position in canvas pixels (the canvas may be drawn at another size). */
  #point(event: PointerEvent): { x: number; y: number } {
    const rect = this.#canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * this.#canvas.width,
      y: ((event.clientY - rect.top) / rect.height) * this.#canvas.height,
    };
  }

  #stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const context = this.#context;
    context.strokeStyle = INK;
    context.lineWidth = PEN_SHARE * this.#canvas.width;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    if (from.x === to.x && from.y === to.y) {
      // A tap: a round dot (a zero-length line may draw nothing).
      context.fillStyle = INK;
      context.arc(from.x, from.y, context.lineWidth / 2, 0, 2 * Math.PI);
      context.fill();
    } else {
      context.moveTo(from.x, from.y);
      context.lineTo(to.x, to.y);
      context.stroke();
    }
    this.#empty = false;
    if (this.#frame === 0) {
      this.#frame = requestAnimationFrame(() => {
        this.#frame = 0;
        this.#onChange();
      });
    }
  }
}
