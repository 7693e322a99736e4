// @ts-check
/**
 * The model's predictions on the host, in float64 from its f32 parameters: 2,000 test digits are
 * 16 million multiply-adds, a few tens of milliseconds, read back once per epoch.
 */
import { CLASSES, PIXELS } from './mnist.js';

/** @typedef {import('./model.js').Parameters} Parameters */
/** @typedef {import('./mnist.js').DigitSet} DigitSet */

/**
 * Each digit's predicted class: the largest logit (the first of equal ones).
 *
 * @param {Parameters} parameters
 * @param {DigitSet} digits
 * @returns {Int32Array}
 * @example
 * const predictions = predict(await model.read(), test);
 */
export function predict({ weight, bias }, digits) {
  const predictions = new Int32Array(digits.count);
  for (let i = 0; i < digits.count; i++) {
    const image = digits.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    let best = 0;
    let bestLogit = logit(weight, bias, image, 0);
    for (let c = 1; c < CLASSES; c++) {
      const z = logit(weight, bias, image, c);
      if (z > bestLogit) {
        best = c;
        bestLogit = z;
      }
    }
    predictions[i] = best;
  }
  return predictions;
}

/**
 * Class `c`'s logit for one image, in float64.
 *
 * @param {Float32Array} weight
 * @param {Float32Array} bias
 * @param {Float32Array} image
 * @param {number} c
 */
function logit(weight, bias, image, c) {
  const row = weight.subarray(c * PIXELS, (c + 1) * PIXELS);
  let sum = bias[c] ?? 0;
  for (let p = 0; p < PIXELS; p++) sum += (image[p] ?? 0) * (row[p] ?? 0);
  return sum;
}

/**
 * The share of predictions equal to their labels.
 *
 * @param {Int32Array} predictions
 * @param {Int32Array} labels
 * @returns {number}
 * @example
 * const testAccuracy = accuracy(predict(parameters, test), test.labels);
 */
export function accuracy(predictions, labels) {
  if (predictions.length !== labels.length || labels.length === 0) {
    throw new RangeError(`accuracy: ${predictions.length} predictions for ${labels.length} labels`);
  }
  let right = 0;
  predictions.forEach((p, i) => {
    if (p === labels[i]) right++;
  });
  return right / labels.length;
}
