// @ts-check
/**
 * The training loop: softmax regression on the digits by minibatch SGD, on the GPU. One step is
 * one command encoder: ce.linearGpu's loss and gradients of the weight and bias, the SGD update of
 * each, and a 4-byte copy of the loss into the epoch's log; one submission, nothing read back. Every
 * `lossEvery` steps the step's loss is read (run.readLoss()) for progress, which also keeps the host
 * from running far ahead of the GPU. After warm-up a step creates no GPU buffer: the batch is
 * uploaded into the same two buffers, and ce.linearGpu reuses its prepared work for the same
 * buffers once each result is destroyed.
 */
import { predict, accuracy } from './evaluate.js';
import { BufferUsage, Readback } from './gpu.js';
import { CLASSES, PIXELS } from './mnist.js';
import { SoftmaxRegression } from './model.js';
import { seededRandom, shuffleInPlace } from './random.js';
import { Sgd } from './sgd.js';

/** @typedef {import('../../src/index.js').CrossEntropy} CrossEntropy */
/** @typedef {import('./mnist.js').DigitSet} DigitSet */

/**
 * The defaults: batches of 64, learning rate 0.5 (on the batch's mean loss), batch order seed 1,
 * the loss read every 10 steps.
 */
export const TRAINING_DEFAULTS = Object.freeze({ batchSize: 64, learningRate: 0.5, seed: 1, lossEvery: 10 });

/**
 * @typedef {object} TrainingOptions
 * @property {number} [batchSize] digits per step; an epoch's last partial batch is left out
 * @property {number} [learningRate]
 * @property {number} [seed] of each epoch's batch order (a seeded shuffle of the training digits)
 * @property {number} [lossEvery] read the loss every this many steps
 */

/**
 * What an epoch did.
 *
 * @typedef {object} EpochReport
 * @property {number} epoch 1 for the first
 * @property {Float32Array} losses each step's batch loss, in order
 * @property {number} meanLoss their mean
 * @property {number} seconds the epoch's training, from its first step to its log read back
 * @property {number} stepsPerSecond
 */

/**
 * @example
 * const ce = await CrossEntropy.create();
 * const { train, test } = splitDigits(await loadDigits());
 * const trainer = await DigitTrainer.create(ce, { train, test });
 * const report = await trainer.trainEpoch({ onLoss: (step, loss) => console.log(step, loss) });
 * const { accuracy } = await trainer.evaluate();
 * trainer.destroy();
 */
export class DigitTrainer {
  /** @type {CrossEntropy} */ #ce;
  /** @type {DigitSet} */ #train;
  /** @type {DigitSet} */ #test;
  /** @type {Required<TrainingOptions>} */ #options;
  /** @type {SoftmaxRegression} */ #model;
  /** @type {Sgd[]} weight's, bias's */ #sgd;
  /** @type {Float32Array<ArrayBuffer>} */ #batchImages;
  /** @type {Int32Array<ArrayBuffer>} */ #batchLabels;
  /** @type {GPUBuffer} */ #images;
  /** @type {GPUBuffer} */ #labels;
  /** @type {GPUBuffer} one f32 per step of an epoch */ #lossLog;
  /** @type {Readback} */ #readLog;
  /** @type {() => number} */ #random;
  /** @type {Uint32Array} training digits in this epoch's order */ #order;
  /** @type {number} steps taken in this epoch */ #position = 0;
  /** @type {number} epochs completed */ #epoch = 0;

  /**
   * A zero-initialised model on `ce.device` and the buffers its steps reuse.
   *
   * @param {CrossEntropy} ce
   * @param {{ train: DigitSet, test: DigitSet }} digits
   * @param {TrainingOptions} [options] defaults: TRAINING_DEFAULTS
   */
  static async create(ce, { train, test }, options = {}) {
    const settings = { ...TRAINING_DEFAULTS, ...options };
    const { batchSize, lossEvery } = settings;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > train.count) {
      throw new RangeError(`DigitTrainer: batchSize must be an integer from 1 to ${train.count} (the training digits), got ${batchSize}`);
    }
    if (!Number.isInteger(lossEvery) || lossEvery < 1) throw new RangeError(`DigitTrainer: lossEvery must be a positive integer, got ${lossEvery}`);
    const model = new SoftmaxRegression(ce.device);
    try {
      const sgd = [
        await Sgd.create(ce.device, model.weight, CLASSES * PIXELS, settings.learningRate, 'digits:weight'),
        await Sgd.create(ce.device, model.bias, CLASSES, settings.learningRate, 'digits:bias'),
      ];
      return new DigitTrainer(ce, train, test, settings, model, sgd);
    } catch (error) {
      model.destroy();
      throw error;
    }
  }

  /**
   * Use DigitTrainer.create.
   *
   * @param {CrossEntropy} ce
   * @param {DigitSet} train
   * @param {DigitSet} test
   * @param {Required<TrainingOptions>} options
   * @param {SoftmaxRegression} model
   * @param {Sgd[]} sgd
   */
  constructor(ce, train, test, options, model, sgd) {
    const device = ce.device;
    const { batchSize } = options;
    this.#ce = ce;
    this.#train = train;
    this.#test = test;
    this.#options = options;
    this.#model = model;
    this.#sgd = sgd;
    this.#batchImages = new Float32Array(batchSize * PIXELS);
    this.#batchLabels = new Int32Array(batchSize);
    const input = BufferUsage.STORAGE | BufferUsage.COPY_DST;
    this.#images = device.createBuffer({ label: 'digits:batch-images', size: this.#batchImages.byteLength, usage: input });
    this.#labels = device.createBuffer({ label: 'digits:batch-labels', size: this.#batchLabels.byteLength, usage: input });
    this.#lossLog = device.createBuffer({ label: 'digits:loss-log', size: this.stepsPerEpoch * 4,
      usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
    this.#readLog = new Readback(device, 'digits:read-loss-log', this.stepsPerEpoch * 4);
    this.#random = seededRandom(options.seed);
    this.#order = new Uint32Array(train.count);
    this.#shuffle();
  }

  /** Whole batches in the training digits. */
  get stepsPerEpoch() {
    return Math.floor(this.#train.count / this.#options.batchSize);
  }

  /** Epochs completed. */
  get epoch() {
    return this.#epoch;
  }

  /**
   * The training digits of the next step, as indices into `train` (a view, changed by the steps
   * that follow).
   */
  get nextBatch() {
    const { batchSize } = this.#options;
    return this.#order.subarray(this.#position * batchSize, (this.#position + 1) * batchSize);
  }

  /** The model being trained (its parameters: `model.read()`). */
  get model() {
    return this.#model;
  }

  /**
   * One SGD step on the next batch (`nextBatch`). Resolves once the step is submitted, or with
   * `readLoss`, with the batch's loss.
   *
   * @param {{ readLoss?: boolean }} [options]
   * @returns {Promise<number | undefined>}
   */
  async step({ readLoss = false } = {}) {
    const { batchSize } = this.#options;
    const device = this.#ce.device;
    const batch = this.nextBatch;
    for (let row = 0; row < batchSize; row++) {
      const digit = /** @type {number} */ (batch[row]);
      this.#batchImages.set(this.#train.images.subarray(digit * PIXELS, (digit + 1) * PIXELS), row * PIXELS);
      this.#batchLabels[row] = /** @type {number} */ (this.#train.labels[digit]);
    }
    device.queue.writeBuffer(this.#images, 0, this.#batchImages);
    device.queue.writeBuffer(this.#labels, 0, this.#batchLabels);
    const encoder = device.createCommandEncoder({ label: 'digits:step' });
    const run = await this.#ce.linearGpu(
      { data: this.#images, shape: [batchSize, PIXELS] }, this.#model.classifier,
      { data: this.#labels, shape: [batchSize] },
      { bias: this.#model.bias, grad: { classifier: true, bias: true }, encoder });
    try {
      const grad = /** @type {import('../../src/index.js').LinearGradBuffers} */ (run.grad);
      /** @type {Sgd} */ (this.#sgd[0]).encode(encoder, /** @type {GPUBuffer} */ (grad.classifier));
      /** @type {Sgd} */ (this.#sgd[1]).encode(encoder, /** @type {GPUBuffer} */ (grad.bias));
      encoder.copyBufferToBuffer(run.loss, 0, this.#lossLog, this.#position * 4, 4);
      device.queue.submit([encoder.finish()]);
      this.#position++;
      if (this.#position === this.stepsPerEpoch) {
        this.#position = 0;
        this.#epoch++;
        this.#shuffle();
      }
      return readLoss ? (await run.readLoss()).loss : undefined;
    } finally {
      run.destroy();
    }
  }

  /**
   * The rest of this epoch (all of the next one, when none is under way), then its report.
   * `onLoss(step, loss)` hears every `lossEvery`-th step's loss, steps counted from 1 in the epoch.
   *
   * @param {{ onLoss?: (step: number, loss: number) => void }} [options]
   * @returns {Promise<EpochReport>}
   */
  async trainEpoch({ onLoss } = {}) {
    const start = performance.now();
    const steps = this.stepsPerEpoch;
    const epoch = this.#epoch + 1;
    do {
      const step = this.#position + 1;
      const loss = await this.step({ readLoss: step % this.#options.lossEvery === 0 });
      if (loss !== undefined) onLoss?.(step, loss);
    } while (this.#position !== 0);
    const [log] = await this.#readLog.read([{ buffer: this.#lossLog, bytes: steps * 4 }]);
    const losses = new Float32Array(/** @type {ArrayBuffer} */ (log));
    const seconds = (performance.now() - start) / 1000;
    const meanLoss = losses.reduce((sum, loss) => sum + loss, 0) / steps;
    return { epoch, losses, meanLoss, seconds, stepsPerSecond: steps / seconds };
  }

  /**
   * The test digits' predictions and accuracy with the parameters as they are now.
   *
   * @returns {Promise<{ accuracy: number, predictions: Int32Array }>}
   */
  async evaluate() {
    const predictions = predict(await this.#model.read(), this.#test);
    return { accuracy: accuracy(predictions, this.#test.labels), predictions };
  }

  /** Frees the model and the buffers of the steps; never `ce` or its device. */
  destroy() {
    for (const sgd of this.#sgd) sgd.destroy();
    this.#model.destroy();
    this.#images.destroy();
    this.#labels.destroy();
    this.#lossLog.destroy();
    this.#readLog.destroy();
  }

  /** The next epoch's order of the training digits: a seeded shuffle of all of them. */
  #shuffle() {
    this.#order.forEach((_, i, order) => {
      order[i] = i;
    });
    shuffleInPlace(this.#order, this.#random);
  }
}
