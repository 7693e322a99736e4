// @ts-check
/**
 * Seeded randomness for the digits example: the same seed gives the same split and the same batch
 * order on every machine, in Node and in the browser.
 */

/**
 * A uniform generator on [0, 1) from a 32-bit seed (mulberry32, as problems/random.ts).
 *
 * @param {number} seed
 * @returns {() => number}
 * @example
 * const random = seededRandom(1);
 * random(); // the same first value on every run
 */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shuffles `values` in place (Fisher–Yates) with `random`, and returns them.
 *
 * @template {Uint32Array | number[]} T
 * @param {T} values
 * @param {() => number} random
 * @returns {T}
 * @example
 * const order = shuffleInPlace(Uint32Array.from({ length: 10 }, (_, i) => i), seededRandom(7));
 */
export function shuffleInPlace(values, random) {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = /** @type {number} */ (values[i]);
    values[i] = /** @type {number} */ (values[j]);
    values[j] = swap;
  }
  return values;
}
