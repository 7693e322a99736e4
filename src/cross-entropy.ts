/**
 * CrossEntropy: owns the device handle and kernels, validates each call, encodes the three stages
 * (row-stats, row-loss, batch-reduce), and reads the result back.
 */
import { BufferUsage, ELEMENT_BYTES } from './gpu/constants.js';
import { CallBuffers } from './gpu/buffers.js';
import { kernelsFor, WORKGROUP_SIZE, type Kernel, type Kernels } from './gpu/pipelines.js';
import { packUniforms } from './gpu/uniforms.js';
import {
  checkHostValues, checkOptionNames, checkWeight, describeProblem, type AcceptedData, type Problem,
} from './options.js';
import { foldWorkgroups, planWork, type WorkPlan } from './plan.js';
import { formatPosition } from './shape.js';
import { isGpuBuffer } from './tensor-data.js';
import type {
  CrossEntropyOptions, ForwardResult, LogitsInput, LossOf, Reduction, TargetInput,
} from './types.js';

const GPU_DATA: AcceptedData = { floatArrays: [Float32Array], gpuBuffers: true };
const FORWARD_OPTION_NAMES = ['reduction', 'weight', 'ignoreIndex', 'labelSmoothing', 'input'] as const;
/** Bytes of one row-stats state (six f32: max, sum_exp, two distance sums, two masses). */
const ROW_STATE_BYTES = 6 * ELEMENT_BYTES;
/** Bytes of the row-loss status block: [count of bad targets, first bad row]. */
const STATUS_BYTES = 2 * ELEMENT_BYTES;
const NO_BAD_ROW = 0xffffffff;

/** Options of `CrossEntropy.create`. */
export interface CreateOptions {
  /** The device to run on. Absent: one is requested from `navigator.gpu` (and destroyed by `destroy()`). */
  readonly device?: GPUDevice;
  /**
   * Fill every buffer the kernels write with NaN before they run, so an element a kernel fails to
   * write cannot pass for a result. For tests; costs one extra upload per output.
   */
  readonly poisonOutputs?: boolean;
}

/** The buffers the kernels read, bound as they are (caller's GPUBuffers) or uploaded. */
interface BoundInputs {
  readonly logits: GPUBuffer;
  readonly target: GPUBuffer;
  readonly weight: GPUBuffer;
}

/**
 * Cross-entropy loss on the GPU with PyTorch `F.cross_entropy` semantics.
 *
 * @example
 * const ce = await CrossEntropy.create({ device });
 * const { loss } = await ce.forward(
 *   { data: new Float32Array([2, 1, 0.1, 0.5, 2.5, 0.3]), shape: [2, 3] },
 *   { data: new Int32Array([0, 1]), shape: [2] },
 * );
 * ce.destroy();
 */
export class CrossEntropy {
  readonly #device: GPUDevice;
  readonly #ownsDevice: boolean;
  readonly #kernels: Kernels;
  readonly #poison: boolean;
  #lostReason: string | undefined;
  #destroyed = false;

  private constructor(device: GPUDevice, ownsDevice: boolean, kernels: Kernels, poison: boolean) {
    this.#device = device;
    this.#ownsDevice = ownsDevice;
    this.#kernels = kernels;
    this.#poison = poison;
    void device.lost.then((info) => {
      this.#lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /**
   * Creates the kernels on a device (the given one, or a new one from `navigator.gpu`).
   *
   * @example
   * const ce = await CrossEntropy.create();            // browser: requests an adapter and device
   * const ce2 = await CrossEntropy.create({ device }); // any host: uses the caller's device
   */
  static async create(options: CreateOptions = {}): Promise<CrossEntropy> {
    checkOptionNames(options, ['device', 'poisonOutputs'], 'CrossEntropy.create');
    const device = options.device ?? (await requestDevice());
    try {
      const kernels = await kernelsFor(device);
      return new CrossEntropy(device, options.device === undefined, kernels, options.poisonOutputs === true);
    } catch (error) {
      if (options.device === undefined) device.destroy();
      throw error;
    }
  }

  /** The device this instance runs on. */
  get device(): GPUDevice {
    return this.#device;
  }

  /**
   * Computes the loss. Host data is validated before any GPU work; a GPUBuffer of class indices is
   * checked on the GPU and an out-of-range index rejects with a RangeError naming its position.
   *
   * @example
   * const { loss } = await ce.forward(
   *   { data: logits, shape: [N, C] },
   *   { data: classIndices, shape: [N] },
   *   { reduction: 'mean', labelSmoothing: 0.1 },
   * );
   */
  async forward<R extends Reduction = 'mean'>(
    logits: LogitsInput, target: TargetInput, options: CrossEntropyOptions & { reduction?: R } = {},
  ): Promise<ForwardResult<R>> {
    this.#checkUsable();
    const problem = describeProblem(logits, target, options, GPU_DATA);
    checkOptionNames(options, FORWARD_OPTION_NAMES, 'forward');
    if (options.weight !== undefined) checkWeight(options.weight, problem.layout.classes, GPU_DATA);
    checkHostValues(problem, logits.data, target.data);

    if (problem.layout.rows === 0) return { loss: emptyLoss(problem) as LossOf<R> };
    this.#checkBindingSize('logits', logits.data);
    const plan = planWork(problem);
    const buffers = new CallBuffers(this.#device, this.#poison);
    try {
      const loss = await this.#run(problem, plan, buffers, logits, target, options.weight);
      return { loss: loss as LossOf<R> };
    } finally {
      buffers.destroy();
    }
  }

  /** Frees what this instance created: the device too, if it requested it. Never the caller's device. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#ownsDevice) this.#device.destroy();
  }

  #checkUsable(): void {
    if (this.#destroyed) throw new Error('CrossEntropy: this instance was destroyed; create a new one');
    if (this.#lostReason !== undefined) {
      throw new Error(`CrossEntropy: the GPU device was lost (${this.#lostReason}); create a new CrossEntropy`);
    }
  }

  #checkBindingSize(name: string, data: Float32Array | Int32Array | GPUBuffer): void {
    const bytes = isGpuBuffer(data) ? data.size : data.byteLength;
    const limit = this.#device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new RangeError(`${name} is ${bytes} bytes, over this device's maxStorageBufferBindingSize `
        + `(${limit}); processing such tensors in pieces is not implemented yet`);
    }
  }

  async #run(problem: Problem, plan: WorkPlan, buffers: CallBuffers, logits: LogitsInput,
    target: TargetInput, weight: Float32Array | GPUBuffer | undefined): Promise<number | Float32Array> {
    const device = this.#device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let readback: Promise<ArrayBuffer[]>;
    let rowLoss: GPUBuffer;
    try {
      const inputs: BoundInputs = {
        logits: bindInput(buffers, 'logits', logits.data),
        target: bindInput(buffers, 'target', target.data),
        weight: weight === undefined ? buffers.create('no-weight', ELEMENT_BYTES, BufferUsage.STORAGE)
          : bindInput(buffers, 'weight', weight),
      };
      const uniforms = packUniforms(problem, plan, weight !== undefined,
        device.limits.minUniformBufferOffsetAlignment,
        (bytes) => buffers.create('params', bytes, BufferUsage.UNIFORM | BufferUsage.COPY_DST));
      device.queue.writeBuffer(uniforms.layout.rowParams.buffer, 0, uniforms.data);

      const partials = buffers.output('row-states', plan.rows * plan.chunks * ROW_STATE_BYTES);
      rowLoss = buffers.output('row-loss', plan.rows * ELEMENT_BYTES);
      const rowWeight = buffers.output('row-weight', plan.rows * ELEMENT_BYTES);
      const status = buffers.create('status', STATUS_BYTES,
        BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
      device.queue.writeBuffer(status, 0, new Uint32Array([0, NO_BAD_ROW]));

      const encoder = device.createCommandEncoder({ label: 'cross-entropy:forward' });
      const pass = encoder.beginComputePass({ label: 'cross-entropy:forward' });
      this.#dispatch(pass, this.#kernels.rowStats, plan.rows * plan.chunks,
        [uniforms.layout.rowParams, inputs.logits, inputs.target, inputs.weight, partials]);
      this.#dispatch(pass, this.#kernels.rowLoss, plan.rows,
        [uniforms.layout.rowParams, inputs.logits, inputs.target, inputs.weight, partials, rowLoss, rowWeight, status]);
      let result = rowLoss;
      let resultWeight = rowWeight;
      plan.reduceLevels.forEach((level, i) => {
        const outLoss = buffers.output(`batch-loss-${i}`, level.outputs * ELEMENT_BYTES);
        const outWeight = buffers.output(`batch-weight-${i}`, level.outputs * ELEMENT_BYTES);
        this.#dispatch(pass, this.#kernels.batchReduce, level.outputs,
          [uniforms.layout.reduceParams[i]!, result, resultWeight, outLoss, outWeight]);
        result = outLoss;
        resultWeight = outWeight;
      });
      pass.end();
      const lossBytes = (problem.reduction === 'none' ? plan.rows : 1) * ELEMENT_BYTES;
      readback = buffers.read(encoder, [{ buffer: status, bytes: STATUS_BYTES }, { buffer: result, bytes: lossBytes }]);
    } finally {
      const validation = device.popErrorScope();
      const outOfMemory = device.popErrorScope();
      await throwGpuErrors(await validation, await outOfMemory);
    }
    const [statusBytes, lossBytes] = await readback;
    const [badCount, firstBadRow] = new Uint32Array(statusBytes!);
    if (badCount! > 0) {
      // row-loss leaves the offending index's bits in that row's loss slot.
      const [badBits] = await buffers.read(device.createCommandEncoder({ label: 'cross-entropy:bad-target' }),
        [{ buffer: rowLoss!, offset: firstBadRow! * ELEMENT_BYTES, bytes: ELEMENT_BYTES }]);
      const badValue = new Int32Array(badBits!)[0];
      throw new RangeError(`target has ${badCount} class indices out of bounds; the first is `
        + `target${formatPosition(firstBadRow!, problem.targetShape)} = ${badValue}: class indices must be `
        + `in [0, ${problem.layout.classes - 1}] or ignoreIndex (${problem.ignoreIndex})`);
    }
    const values = new Float32Array(lossBytes!);
    return problem.reduction === 'none' ? values : values[0]!;
  }

  #dispatch(pass: GPUComputePassEncoder, kernel: Kernel, invocations: number,
    resources: readonly (GPUBuffer | GPUBufferBinding)[]): void {
    const bindGroup = this.#device.createBindGroup({
      label: kernel.label,
      layout: kernel.layout,
      entries: resources.map((resource, binding) => ({
        binding,
        resource: isGpuBuffer(resource) ? { buffer: resource } : resource,
      })),
    });
    const [x, y] = foldWorkgroups(invocations, WORKGROUP_SIZE, this.#device.limits.maxComputeWorkgroupsPerDimension);
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
  }
}

/** The loss of a problem with no rows: PyTorch gives NaN for 'mean' (0 / 0), 0 for 'sum'. */
function emptyLoss(problem: Problem): number | Float32Array {
  if (problem.reduction === 'none') return new Float32Array(0);
  return problem.reduction === 'sum' ? 0 : NaN;
}

function bindInput(buffers: CallBuffers, label: string, data: Float32Array | Int32Array | GPUBuffer): GPUBuffer {
  return isGpuBuffer(data) ? data : buffers.upload(label, data);
}

async function throwGpuErrors(...errors: (GPUError | null)[]): Promise<void> {
  const first = errors.find((e) => e !== null);
  if (first) throw new Error(`CrossEntropy: WebGPU reported an error: ${first.message}`);
}

async function requestDevice(): Promise<GPUDevice> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu === undefined) {
    throw new Error('CrossEntropy.create: WebGPU is not available here (no navigator.gpu); pass { device } '
      + 'from a WebGPU implementation such as the `webgpu` package in Node');
  }
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error('CrossEntropy.create: navigator.gpu.requestAdapter() found no adapter');
  // Ask for the adapter's largest buffers rather than the defaults, so large vocabularies fit.
  return adapter.requestDevice({
    label: 'cross-entropy',
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
}
