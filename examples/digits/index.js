// @ts-check
/**
 * Training a digit classifier with cross-entropy on the GPU, shared by examples/train-digits.mjs
 * (Node) and the demo page: the digits of the `mnist` package, a seeded split, softmax regression
 * trained by ce.linearGpu and an SGD kernel, and its test accuracy.
 */
export { CLASSES, IMAGE_SIZE, PIXELS, digitsOf, loadDigits } from './mnist.js';
export { SPLIT_DEFAULTS, splitDigits } from './split.js';
export { seededRandom, shuffleInPlace } from './random.js';
export { SoftmaxRegression } from './model.js';
export { Sgd } from './sgd.js';
export { accuracy, predict } from './evaluate.js';
export { DigitTrainer, TRAINING_DEFAULTS } from './trainer.js';
