/**
 * A drawn digit made into what the digits model reads, as MNIST made its digits: the strokes'
 * bounding box scaled to fit a 20 × 20 box with its aspect kept (each output pixel the mean of the
 * ink it covers, so edges come out grey, anti-aliased), then placed in 28 × 28 so that the centre of
 * mass sits at pixel (14, 14), intensities in [0, 1] with 0 the background (the training data's
 * scale). Then the model's probabilities for it: softmax(W·x + b) in float64.
 *
 * No DOM here: the drawing arrives as an array of ink values, so Node can test it.
 */
import { softmax } from './examples.js';

/** The side of the image the model reads. */
export const MNIST_SIZE = 28;
/** The side of the box the digit's longer side is scaled to. */
export const MNIST_BOX = 20;
/**
 * Where the centre of mass goes, in pixel indices (Σ v·x / Σ v with x = 0 … 27): 14, where the
 * training digits have theirs (test/node/demo-digit-image.test.ts).
 */
export const MNIST_CENTRE = 14;

/** Ink on a grid: `values[y * width + x]` in [0, 1], 0 where nothing is drawn. */
export interface Ink {
  readonly values: ArrayLike<number>;
  readonly width: number;
  readonly height: number;
}

/** The box around every inked pixel: columns x0 … x1, rows y0 … y1 (inclusive). */
export interface Box {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

/** The bounding box of the pixels with ink, or null where there is none. */
export function inkBox({ values, width, height }: Ink): Box | null {
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (values[y * width + x]! > 0) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : { x0, x1, y0, y1 };
}

/** The centre of mass in pixel indices (pixel x's position is x); null for no ink. */
export function centreOfMass({ values, width, height }: Ink): { x: number; y: number } | null {
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x]!;
      mass += v; mx += v * x; my += v * y;
    }
  }
  return mass > 0 ? { x: mx / mass, y: my / mass } : null;
}

/**
 * The weights that resample one axis of `sourceLength` pixels to MNIST_SIZE: output pixel j covers
 * [j, j + 1) in output coordinates, which is [(j − offset) / scale, (j + 1 − offset) / scale) in the
 * source's; its weight on source pixel x is the share of that interval [x, x + 1) covers. Row j of
 * the result holds its weights (they sum to 1 where the interval lies inside the source).
 */
function axisWeights(sourceLength: number, scale: number, offset: number): Float64Array[] {
  return Array.from({ length: MNIST_SIZE }, (_, j) => {
    const from = (j - offset) / scale;
    const to = (j + 1 - offset) / scale;
    const weights = new Float64Array(sourceLength);
    for (let x = Math.max(0, Math.floor(from)); x < Math.min(sourceLength, Math.ceil(to)); x++) {
      weights[x] = (Math.min(to, x + 1) - Math.max(from, x)) * scale;
    }
    return weights;
  });
}

/**
 * The drawing as the model's input, MNIST_SIZE² values in [0, 1], row by row; null for an empty
 * drawing. One resampling, scale and shift together: source pixel index s goes to
 * (s + ½ − centre) · scale + MNIST_CENTRE + ½, so the centre of mass lands on MNIST_CENTRE (up to
 * the resampling's rounding, well under a pixel) and the longer side of the box on MNIST_BOX pixels.
 */
export function mnistImage(ink: Ink): Float32Array | null {
  const box = inkBox(ink);
  const centre = centreOfMass(ink);
  if (box === null || centre === null) return null;
  const scale = MNIST_BOX / Math.max(box.x1 - box.x0 + 1, box.y1 - box.y0 + 1);
  // Output coordinate u = (s − centre) · scale + MNIST_CENTRE, for pixel centres s + ½ and u + ½.
  const offsetOf = (c: number) => MNIST_CENTRE + 0.5 - (c + 0.5) * scale;
  const wx = axisWeights(ink.width, scale, offsetOf(centre.x));
  const wy = axisWeights(ink.height, scale, offsetOf(centre.y));
  // Columns first (each source row to MNIST_SIZE values), then rows.
  const columns = new Float64Array(ink.height * MNIST_SIZE);
  for (let y = box.y0; y <= box.y1; y++) {
    for (let j = 0; j < MNIST_SIZE; j++) {
      const w = wx[j]!;
      let sum = 0;
      for (let x = box.x0; x <= box.x1; x++) sum += w[x]! * ink.values[y * ink.width + x]!;
      columns[y * MNIST_SIZE + j] = sum;
    }
  }
  const image = new Float32Array(MNIST_SIZE * MNIST_SIZE);
  for (let i = 0; i < MNIST_SIZE; i++) {
    const w = wy[i]!;
    for (let j = 0; j < MNIST_SIZE; j++) {
      let sum = 0;
      for (let y = box.y0; y <= box.y1; y++) sum += w[y]! * columns[y * MNIST_SIZE + j]!;
      image[i * MNIST_SIZE + j] = Math.min(1, Math.max(0, sum));
    }
  }
  return image;
}

/** The model's parameters on the host: W [classes, pixels] row by row, b [classes]. */
export interface LinearParameters {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** The logits W·x + b and their softmax, in float64. */
export function classify({ weight, bias }: LinearParameters, image: ArrayLike<number>): { logits: number[]; probabilities: number[] } {
  const pixels = image.length;
  const logits = Array.from(bias, (b, c) => {
    let sum = b;
    for (let p = 0; p < pixels; p++) sum += weight[c * pixels + p]! * image[p]!;
    return sum;
  });
  return { logits, probabilities: softmax(logits) };
}
