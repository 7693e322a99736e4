// @ts-check
/**
 * Softmax regression on the GPU: logits = images · weightᵀ + bias, the weight [10, 784] (the layout
 * of PyTorch's nn.Linear(784, 10).weight) and the bias [10] in GPUBuffers, both starting at zero
 * (WebGPU zero-fills new buffers). The loss is convex, so zero is as good a start as any.
 */
import { BufferUsage, Readback } from './gpu.js';
import { CLASSES, PIXELS } from './mnist.js';

/**
 * The model's parameters on the host.
 *
 * @typedef {object} Parameters
 * @property {Float32Array} weight [CLASSES, PIXELS]: row c is class c's template image
 * @property {Float32Array} bias [CLASSES]
 */

/**
 * @example
 * const model = new SoftmaxRegression(device);
 * // ... ce.linearGpu(images, model.classifier, labels, { bias: model.bias, grad: true, encoder }) ...
 * const { weight, bias } = await model.read();
 * model.destroy();
 */
export class SoftmaxRegression {
  /** @type {GPUBuffer} [CLASSES, PIXELS] f32 */ weight;
  /** @type {GPUBuffer} [CLASSES] f32 */ bias;
  /** @type {Readback} */ #readback;

  /** @param {GPUDevice} device */
  constructor(device) {
    const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
    this.weight = device.createBuffer({ label: 'digits:weight', size: CLASSES * PIXELS * 4, usage });
    this.bias = device.createBuffer({ label: 'digits:bias', size: CLASSES * 4, usage });
    this.#readback = new Readback(device, 'digits:read-parameters', (CLASSES * PIXELS + CLASSES) * 4);
  }

  /** The weight as ce.linear's `classifier` argument. */
  get classifier() {
    return { data: this.weight, shape: [CLASSES, PIXELS] };
  }

  /**
   * The parameters read back (after the work submitted so far).
   *
   * @returns {Promise<Parameters>}
   */
  async read() {
    const [weight, bias] = await this.#readback.read([
      { buffer: this.weight, bytes: CLASSES * PIXELS * 4 },
      { buffer: this.bias, bytes: CLASSES * 4 },
    ]);
    return { weight: new Float32Array(/** @type {ArrayBuffer} */ (weight)), bias: new Float32Array(/** @type {ArrayBuffer} */ (bias)) };
  }

  destroy() {
    this.weight.destroy();
    this.bias.destroy();
    this.#readback.destroy();
  }
}
