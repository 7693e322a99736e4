// @ts-check
/**
 * SGD for the parameters of one tensor held in a GPUBuffer: `encode` appends
 * `param -= learningRate * grad` to a command encoder, so the update runs in the same submission
 * as the gradient that feeds it and nothing is read back.
 */
import { BufferUsage, COMPUTE_STAGE } from './gpu.js';
import { SGD_WGSL } from './sgd-shader.js';

const WORKGROUP_SIZE = 64;
/** The uniform `Step`: learning_rate (f32), count (u32), padded to 16 bytes. */
const STEP_BYTES = 16;

/** @type {WeakMap<GPUDevice, Promise<{ layout: GPUBindGroupLayout, pipeline: GPUComputePipeline }>>} */
const kernels = new WeakMap();

/**
 * The SGD kernel of a device, compiled once.
 *
 * @param {GPUDevice} device
 */
function sgdKernel(device) {
  let kernel = kernels.get(device);
  if (kernel === undefined) {
    kernel = (async () => {
      const module = device.createShaderModule({ label: 'digits:sgd', code: SGD_WGSL });
      const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
      if (errors.length > 0) {
        throw new Error(`digits:sgd does not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
      }
      const layout = device.createBindGroupLayout({
        label: 'digits:sgd',
        entries: [
          { binding: 0, visibility: COMPUTE_STAGE, buffer: { type: 'uniform' } },
          { binding: 1, visibility: COMPUTE_STAGE, buffer: { type: 'storage' } },
          { binding: 2, visibility: COMPUTE_STAGE, buffer: { type: 'read-only-storage' } },
        ],
      });
      const pipeline = await device.createComputePipelineAsync({
        label: 'digits:sgd',
        layout: device.createPipelineLayout({ label: 'digits:sgd', bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main', constants: { workgroup_size: WORKGROUP_SIZE } },
      });
      return { layout, pipeline };
    })();
    kernels.set(device, kernel);
  }
  return kernel;
}

/**
 * SGD on `count` f32 parameters at the start of `param`.
 *
 * @example
 * const sgd = await Sgd.create(device, weightBuffer, 7840, 0.5, 'digits:weight');
 * sgd.encode(encoder, run.grad.classifier);    // after ce.linearGpu(..., { encoder })
 * device.queue.submit([encoder.finish()]);
 * sgd.destroy();                               // its uniform; never `param`
 */
export class Sgd {
  /** @type {GPUDevice} */ #device;
  /** @type {GPUBindGroupLayout} */ #layout;
  /** @type {GPUComputePipeline} */ #pipeline;
  /** @type {GPUBuffer} */ #param;
  /** @type {GPUBuffer} */ #step;
  /** @type {number} */ #count;
  /** @type {string} */ #label;
  /** @type {number} */ #learningRate = 0;
  /** One bind group per gradient buffer: ce.linearGpu hands back the same buffers step after step. */
  /** @type {WeakMap<GPUBuffer, GPUBindGroup>} */ #bindGroups = new WeakMap();

  /**
   * @param {GPUDevice} device
   * @param {GPUBuffer} param the parameters, STORAGE usage
   * @param {number} count how many
   * @param {number} learningRate
   * @param {string} label names its GPU objects
   */
  static async create(device, param, count, learningRate, label) {
    const groups = Math.ceil(count / WORKGROUP_SIZE);
    if (!Number.isInteger(count) || count < 1 || groups > device.limits.maxComputeWorkgroupsPerDimension) {
      throw new RangeError(`${label}: SGD updates 1 to ${device.limits.maxComputeWorkgroupsPerDimension * WORKGROUP_SIZE} `
        + `parameters, got ${count}`);
    }
    const { layout, pipeline } = await sgdKernel(device);
    return new Sgd(device, layout, pipeline, param, count, learningRate, label);
  }

  /**
   * @param {GPUDevice} device
   * @param {GPUBindGroupLayout} layout
   * @param {GPUComputePipeline} pipeline
   * @param {GPUBuffer} param
   * @param {number} count
   * @param {number} learningRate
   * @param {string} label
   */
  constructor(device, layout, pipeline, param, count, learningRate, label) {
    this.#device = device;
    this.#layout = layout;
    this.#pipeline = pipeline;
    this.#param = param;
    this.#count = count;
    this.#label = label;
    this.#step = device.createBuffer({ label: `${label}:sgd-step`, size: STEP_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    this.learningRate = learningRate;
  }

  /** The learning rate of the updates encoded from now on. */
  get learningRate() {
    return this.#learningRate;
  }

  set learningRate(value) {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${this.#label}: learningRate must be > 0, got ${value}`);
    this.#learningRate = value;
    const step = new ArrayBuffer(STEP_BYTES);
    new Float32Array(step, 0, 1)[0] = value;
    new Uint32Array(step, 4, 1)[0] = this.#count;
    this.#device.queue.writeBuffer(this.#step, 0, step);
  }

  /**
   * Appends the update from `grad` (f32, at least `count` values) to `encoder`.
   *
   * @param {GPUCommandEncoder} encoder
   * @param {GPUBuffer} grad
   */
  encode(encoder, grad) {
    let bindGroup = this.#bindGroups.get(grad);
    if (bindGroup === undefined) {
      bindGroup = this.#device.createBindGroup({
        label: `${this.#label}:sgd`,
        layout: this.#layout,
        entries: [
          { binding: 0, resource: { buffer: this.#step } },
          { binding: 1, resource: { buffer: this.#param, size: this.#count * 4 } },
          { binding: 2, resource: { buffer: grad, size: this.#count * 4 } },
        ],
      });
      this.#bindGroups.set(grad, bindGroup);
    }
    const pass = encoder.beginComputePass({ label: `${this.#label}:sgd` });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.#count / WORKGROUP_SIZE));
    pass.end();
  }

  /** Frees the uniform; the parameters are the caller's. */
  destroy() {
    this.#step.destroy();
  }
}
