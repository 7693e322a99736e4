// @ts-check
/**
 * A fixed training / test split: every digit's index shuffled with a seeded generator, the first
 * `count - testCount` for training and the rest for testing. Not stratified: the shuffle leaves each
 * class's share of the test set near its share of the whole (it holds 863 to 1,127 digits a class).
 */
import { PIXELS } from './mnist.js';
import { seededRandom, shuffleInPlace } from './random.js';

/** @typedef {import('./mnist.js').DigitSet} DigitSet */

/** The split of the digits example: 8,000 training and 2,000 test digits, seed 1. */
export const SPLIT_DEFAULTS = Object.freeze({ testCount: 2000, seed: 1 });

/**
 * The digits split in two, the same for the same seed.
 *
 * @param {DigitSet} digits
 * @param {{ testCount?: number, seed?: number }} [options] defaults: SPLIT_DEFAULTS
 * @returns {{ train: DigitSet, test: DigitSet }}
 * @example
 * const { train, test } = splitDigits(await loadDigits());
 * console.log(train.count, test.count); // 8000 2000
 */
export function splitDigits(digits, options = {}) {
  const { testCount, seed } = { ...SPLIT_DEFAULTS, ...options };
  if (!Number.isInteger(testCount) || testCount < 1 || testCount >= digits.count) {
    throw new RangeError(`splitDigits: testCount must be an integer from 1 to ${digits.count - 1}, got ${testCount}`);
  }
  const order = shuffleInPlace(Uint32Array.from({ length: digits.count }, (_, i) => i), seededRandom(seed));
  const trainCount = digits.count - testCount;
  return {
    train: pick(digits, order.subarray(0, trainCount)),
    test: pick(digits, order.subarray(trainCount)),
  };
}

/**
 * The digits at `indices`, copied in that order.
 *
 * @param {DigitSet} digits
 * @param {Uint32Array} indices
 * @returns {DigitSet}
 */
export function pick(digits, indices) {
  const images = new Float32Array(indices.length * PIXELS);
  const labels = new Int32Array(indices.length);
  indices.forEach((from, to) => {
    images.set(digits.images.subarray(from * PIXELS, (from + 1) * PIXELS), to * PIXELS);
    labels[to] = /** @type {number} */ (digits.labels[from]);
  });
  return { images, labels, count: indices.length };
}
