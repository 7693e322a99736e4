/**
 * CrossEntropy: owns the device handle and kernels, validates each call, and runs it: left on the
 * GPU (`forwardGpu`), read back (`forward`), binary (`binary`) or as row statistics of a vocabulary
 * shard (`rowStatistics`).
 */
import { checkBinaryBindings, encodeBinary } from './gpu/encode-binary.js';
import { BufferUsage, ELEMENT_BYTES } from './gpu/constants.js';
import { CallBuffers } from './gpu/buffers.js';
import { inErrorScopes } from './gpu/error-scopes.js';
import { GpuMemoryLedger, type GpuMemory } from './gpu/memory-ledger.js';
import {
  compileKernels, compileKernelsSync, prepareCrossEntropy, type CompiledKernels, type CrossEntropyInputs,
  type PreparedCrossEntropy,
} from './gpu/encode-cross-entropy.js';
import { FramePool, type Frame } from './gpu/frame-pool.js';
import { identity, writeHostData } from './gpu/host-data.js';
import { callerBuffers, inputBuffers, kind, withCallerBuffers } from './gpu/input-buffers.js';
import { InstanceLife } from './gpu/instance-life.js';
import { requestDevice } from './gpu/device.js';
import { GpuForward, resultRanges, throwIfOutOfBounds, type StagedResult } from './gpu/forward-result.js';
import { StatusReads } from './gpu/status-reads.js';
import { subgroupSizeFor } from './gpu/subgroups.js';
import { kernelsFor, type Kernels } from './gpu/pipelines.js';
import { describeBinaryProblem, type BinaryOptions } from './binary.js';
import {
  checkCreateOptions, checkEncoder, checkGradOutput, checkHostValues, checkWeight, dataBytes, describeProblem,
  type AcceptedData, type Problem,
} from './options.js';
import { readOptionNames } from './option-names.js';
import { planWork, type WorkPlan } from './plan.js';
import { planPasses, type CrossEntropyPasses } from './passes.js';
import { ROW_SUMMARY } from './gpu/shader-structs.js';
import { readRowStatistics, type RowStatistics, type RowStatisticsOptions } from './row-statistics.js';
import { isGpuBuffer } from './tensor-data.js';
import { logitValues, uploadedLogits } from './half-precision.js';
import { checkLinearValues, describeLinearProblem, type LinearProblem } from './linear-problem.js';
import { DEFAULT_MEMORY_BUDGET, planLinear, type LinearPlan } from './linear-plan.js';
import {
  compileLinearKernels, compileLinearKernelsSync, planLinearWork, prepareLinear, type LinearInputs, type LinearKernels, type LinearWork,
  type PreparedLinear,
} from './gpu/encode-linear.js';
import {
  checkLinearBuffers, linearCallerBuffers, linearInputBuffers, readMemoryBudget, withLinearCallerBuffers,
  writeLinearHostData,
} from './gpu/linear-inputs.js';
import { GpuLinear } from './gpu/linear-result.js';
import type {
  GpuLinearOptions, GpuLinearResult, LinearGradBuffers, LinearInput, LinearOptions, LinearResult,
  CrossEntropyOptions, Dtype, ForwardResult, GradDtypeOf, GpuForwardOptions, GpuForwardResult, LogitsData, LogitsInput, Reduction,
  TargetInput,
} from './types.js';

const GPU_DATA: AcceptedData = { floatArrays: [Float32Array], gpuBuffers: true };

/** Logits as a prepared call submits them: a GPUBuffer, or the host array as uploaded. */
function hostOrGpu(data: LogitsData): GPUBuffer | Float32Array | Uint16Array {
  return isGpuBuffer(data) ? data : uploadedLogits(data);
}

/** Options of `CrossEntropy.create`. */
export interface CreateOptions {
  /**
   * The device to run on. Absent: one is requested (and destroyed by `destroy()`) from
   * `navigator.gpu`, or in Node from the `webgpu` package, an optional peer dependency.
   */
  readonly device?: GPUDevice;
  /**
   * Fill every buffer the kernels write with NaN before they run, so an element a kernel fails to
   * write cannot pass for a result. For tests; costs one extra upload per output.
   */
  readonly poisonOutputs?: boolean;
  /**
   * Use subgroup operations in the row kernels (`true`: the device must have the 'subgroups'
   * feature; `false`: never). Absent: where the device has them and the adapter is not a software
   * one (on SwiftShader they measured slower). Results agree with the reference either way; the
   * choice changes the order of a row's sums, so bit-identical reruns hold per choice.
   */
  readonly subgroups?: boolean;
}

/** A prepared forward call (see FramePool): its buffers, its work, and where host inputs go. */
interface ForwardFrame extends Frame {
  /** The call's passes and their kernels: the same for every frame of a key. */
  readonly passes: CrossEntropyPasses;
  readonly kernels: CompiledKernels;
  readonly buffers: CallBuffers;
  readonly prepared: PreparedCrossEntropy;
  readonly inputs: CrossEntropyInputs;
}

/** A forward call checked and planned: what is decided before any GPU work. */
interface ForwardCall {
  readonly problem: Problem;
  readonly plan: WorkPlan;
  /** The gradient goes over the logits: asked for, or over a private upload of host logits. */
  readonly gradInPlace: boolean;
}

/**
 * A call encoded and submitted without waiting (the TF.js adapter's): its results stay in the
 * instance's buffers until `release()`, which the caller calls once it has submitted its copies of
 * them; `reported` rejects with a WebGpuError, or a RangeError for class indices out of range in a
 * GPUBuffer (found on the GPU).
 */
export interface SyncRun {
  readonly loss: GPUBuffer;
  readonly grad?: GPUBuffer;
  readonly reported: Promise<void>;
  release(): void;
}

/** A linear-head call run without waiting: its loss and the gradients asked for (see SyncRun). */
export interface SyncLinearRun extends Omit<SyncRun, 'grad'> {
  readonly grad: LinearGradBuffers;
}

/** The synchronous calls of an instance, for the TF.js adapter only: not part of the public API. */
export interface SyncCalls {
  forward(logits: LogitsInput<Dtype>, target: TargetInput, options: CrossEntropyOptions): SyncRun;
  binary(logits: LogitsInput<Dtype>, target: TargetInput, options: BinaryOptions): SyncRun;
  /** The classifier in one buffer: its gradient comes in one buffer (as linearGpu's). */
  linear(hidden: LinearInput, classifier: LinearInput, target: TargetInput, options: LinearOptions): SyncLinearRun;
  /**
   * The checks of each call alone, which throw what the call would, before any GPU work: for a
   * caller that must know its arguments pass before it copies them to the GPU.
   */
  checkForward(logits: LogitsInput<Dtype>, target: TargetInput, options: CrossEntropyOptions): void;
  checkBinary(logits: LogitsInput<Dtype>, target: TargetInput, options: BinaryOptions): void;
  checkLinear(hidden: LinearInput, classifier: LinearInput, target: TargetInput, options: LinearOptions): void;
}

let syncCallsOf: (ce: CrossEntropy) => SyncCalls;

/**
 * The synchronous calls of `ce` (internal: src/tfjs uses them; the package's entry point does not
 * export this).
 */
export function syncCalls(ce: CrossEntropy): SyncCalls {
  return syncCallsOf(ce);
}

/** A linear-head call checked and planned. */
interface LinearCall {
  readonly problem: LinearProblem;
  readonly plan: LinearPlan;
  readonly memoryBudget: number | undefined;
}

/** A prepared linear-head call (see FramePool). */
interface LinearFrame extends Frame {
  readonly work: LinearWork;
  readonly kernels: LinearKernels;
  readonly buffers: CallBuffers;
  readonly prepared: PreparedLinear;
  readonly inputs: LinearInputs;
}

/** The token only create() passes to the constructor. */
const CREATE = Symbol('CrossEntropy.create');

/**
 * Cross-entropy loss on the GPU with PyTorch `F.cross_entropy` semantics.
 *
 * @example
 * const ce = await CrossEntropy.create({ device });
 * const { loss, grad } = await ce.forward(
 *   { data: new Float32Array([2, 1, 0.1, 0.5, 2.5, 0.3]), shape: [2, 3] },
 *   { data: new Int32Array([0, 1]), shape: [2] },
 *   { grad: true },
 * );
 * ce.destroy();
 */
export class CrossEntropy {
  readonly #device: GPUDevice;
  readonly #ownsDevice: boolean;
  readonly #kernels: Kernels;
  readonly #poison: boolean;
  readonly #frames = new FramePool<ForwardFrame>();
  readonly #linearFrames = new FramePool<LinearFrame>();
  readonly #ledger = new GpuMemoryLedger();
  readonly #statusReads: StatusReads;
  /** Per call's buffers, the loss in a buffer of its exact size (#exactLoss). */
  readonly #exactLosses = new WeakMap<CallBuffers, GPUBuffer>();
  readonly #life: InstanceLife;

  static {
    syncCallsOf = (ce) => ({
      forward: (logits, target, options) => ce.#forwardSync(logits, target, options),
      binary: (logits, target, options) => ce.#binarySync(logits, target, options),
      linear: (hidden, classifier, target, options) => ce.#linearSync(hidden, classifier, target, options),
      checkForward: (logits, target, options) => {
        ce.#life.check('forward');
        readOptionNames(options, 'CrossEntropy.forward');
        ce.#planForward(logits, target, options);
      },
      checkBinary: (logits, target, options) => {
        ce.#life.check('binary');
        const problem = describeBinaryProblem(logits, target, options, GPU_DATA, 'CrossEntropy.binary');
        checkBinaryBindings(ce.#device.limits, problem, logits);
      },
      checkLinear: (hidden, classifier, target, options) => {
        ce.#life.check('linearGpu');
        readOptionNames(options, 'CrossEntropy.linear');
        ce.#planLinear(hidden, classifier, target, options, 'linearGpu');
      },
    });
  }

  private constructor(token: symbol, device: GPUDevice, ownsDevice: boolean, kernels: Kernels, poison: boolean,
    life: InstanceLife) {
    // From plain JavaScript the constructor is reachable: it would make an instance without kernels.
    if (token !== CREATE) throw new TypeError('CrossEntropy: use await CrossEntropy.create() or create({ device }), not new');
    this.#device = device;
    this.#ownsDevice = ownsDevice;
    this.#kernels = kernels;
    this.#poison = poison;
    this.#life = life;
    this.#statusReads = new StatusReads(device, this.#ledger);
  }

  /**
   * Creates the kernels on a device: the given one, or a new one from `navigator.gpu` (browsers) or,
   * in Node, from the `webgpu` package. A device that is already lost or destroyed is rejected.
   *
   * @example
   * const ce = await CrossEntropy.create();            // requests an adapter and a device
   * const ce2 = await CrossEntropy.create({ device }); // uses the caller's device
   */
  static async create(options: CreateOptions = {}): Promise<CrossEntropy> {
    checkCreateOptions(options);
    const device = options.device ?? (await requestDevice());
    const life = new InstanceLife(device);
    try {
      if (options.device !== undefined) await life.checkAlive();
      const kernels = await kernelsFor(device, subgroupSizeFor(device, options.subgroups));
      life.checkStillAlive();
      return new CrossEntropy(CREATE, device, options.device === undefined, kernels, options.poisonOutputs === true, life);
    } catch (error) {
      if (options.device === undefined) device.destroy();
      throw error;
    }
  }

  /** The device this instance runs on. */
  get device(): GPUDevice {
    return this.#device;
  }

  /** The subgroup size the row kernels use subgroup operations with; 0 when they do not. */
  get subgroupSize(): number {
    return this.#kernels.subgroupSize;
  }

  /**
   * The GPU buffers this instance holds now (prepared calls kept for reuse, results not yet
   * destroyed, calls in flight) and their bytes. Flat across a training loop; 0 after `destroy()`.
   *
   * @example
   * for (let step = 0; step < steps; step++) await ce.forward(logits, target);
   * console.log(ce.gpuMemory()); // [2, 3] logits: { buffers: 11, bytes: 732 }, the same every step
   */
  gpuMemory(): GpuMemory {
    return this.#ledger.held;
  }

  /**
   * The most GPU memory this instance held at once since it was created or since the last call of
   * this method (which starts a new period from what is held now): what a call needed at its peak,
   * its scratch buffers included.
   *
   * @example
   * ce.gpuMemoryPeak();                                  // start a period
   * await ce.linear(hidden, classifier, target, { grad: true });
   * console.log(ce.gpuMemoryPeak().bytes);                // the call's peak
   */
  gpuMemoryPeak(): GpuMemory {
    return this.#ledger.takePeak();
  }

  /**
   * Computes the loss (and, with `grad: true`, its gradient) and reads them back. Host data is
   * validated before any GPU work; class indices in a GPUBuffer are checked on the GPU and an
   * out-of-range one rejects with a RangeError naming its position.
   *
   * @example
   * const { loss, grad } = await ce.forward(
   *   { data: logits, shape: [N, C] },
   *   { data: classIndices, shape: [N] },
   *   { reduction: 'mean', labelSmoothing: 0.1, grad: true },
   * );
   */
  async forward<R extends Reduction = 'mean', G extends boolean = false, D extends Dtype = 'float32', GD extends Dtype = D>(
    logits: LogitsInput<D>, target: TargetInput,
    options: CrossEntropyOptions & { reduction?: R; grad?: G; gradDtype?: GD } = {},
  ): Promise<ForwardResult<R, G, GradDtypeOf<D, GD>>> {
    // The copies to the host (the gradient's too) go in the computation's command buffer, and are
    // mapped once its error scopes have resolved: in Chromium a map requested while the work is
    // pending waits for the GPU process's next poll, and a second submit for the copies costs more
    // than copying with the computation (docs/performance.md).
    const run = await this.#forwardGpu<R, G, GradDtypeOf<D, GD>>(logits, target, options, 'forward');
    try {
      return await run.read();
    } finally {
      run.destroy();
    }
  }

  /**
   * Encodes the loss (and gradient) and leaves them in GPUBuffers, without waiting for a readback,
   * so a training step can chain it with other GPU work. With `options.encoder` the commands go into
   * the caller's encoder (submit it before `read()`); otherwise they are submitted at once, with a
   * copy of the status and the loss (4 bytes, or 4 per row for 'none') into the call's staging
   * buffer, which the first `readLoss()` or `check()` maps without a submit of its own. The result
   * owns its buffers until `destroy()`; the caller's buffers are never destroyed.
   *
   * @example
   * const run = await ce.forwardGpu({ data: logitsBuffer, shape: [N, C] }, { data: targetBuffer, shape: [N] },
   *   { grad: true, gradInPlace: true, encoder });
   * // ... encode an optimizer step reading run.grad (= logitsBuffer) ...
   * device.queue.submit([encoder.finish()]);
   * await run.check(); // RangeError if a class index was out of range
   * run.destroy();
   */
  async forwardGpu<R extends Reduction = 'mean', G extends boolean = false, D extends Dtype = 'float32', GD extends Dtype = D>(
    logits: LogitsInput<D>, target: TargetInput,
    options: GpuForwardOptions & { reduction?: R; grad?: G; gradDtype?: GD } = {},
  ): Promise<GpuForwardResult<R, G, GradDtypeOf<D, GD>>> {
    return this.#forwardGpu<R, G, GradDtypeOf<D, GD>>(logits, target, options, 'forwardGpu');
  }

  /**
   * forwardGpu, called as `operation` (the name its errors give). forward() reads the gradient
   * back, so its copy for `read()` is submitted with the computation too.
   */
  async #forwardGpu<R extends Reduction, G extends boolean, GD extends Dtype>(logits: LogitsInput<Dtype>, target: TargetInput,
    options: GpuForwardOptions, operation: 'forward' | 'forwardGpu'): Promise<GpuForwardResult<R, G, GD>> {
    this.#life.check(operation);
    readOptionNames(options, `CrossEntropy.${operation}`);
    const stageGrad = operation === 'forward';
    if (stageGrad && options.gradInPlace === true && isGpuBuffer(logits?.data)
        && (logits.data.usage & BufferUsage.COPY_SRC) === 0) {
      throw new TypeError('CrossEntropy.forward: options.gradInPlace: logits.data needs COPY_SRC usage for forward() '
        + 'to read the gradient back (or use forwardGpu and keep it on the GPU)');
    }
    const call = this.#planForward(logits, target, options);
    return this.#life.guard(operation, async () => {
      const key = JSON.stringify([call.problem, identity(logits.data), identity(target.data), identity(options.weight),
        identity(options.gradOutput), call.gradInPlace]);
      // A call like one before takes its passes and kernels: planning is for new shapes only.
      const known = this.#frames.peek(key);
      const passes = known?.passes ?? this.#planPasses(call, options);
      const kernels = known?.kernels ?? await compileKernels(this.#kernels, passes);
      // destroy() may have come while the kernels were being made: nothing must be created after it.
      this.#life.check(operation, true);
      const device = this.#device;
      let frame: ForwardFrame | undefined;
      let staged: StagedResult | undefined;
      try {
        const { reported } = inErrorScopes(device, operation, () => {
          frame = this.#acquireForward(key, passes, kernels, call, logits, target, options);
          if (options.encoder) {
            frame.prepared.encode(options.encoder);
          } else {
            // The status and the loss (forward(): all of the result) are copied for the host in
            // the computation's last command buffer: the first read maps them without a submit of
            // its own.
            const { buffers, prepared } = frame;
            prepared.submit(hostOrGpu(logits.data), (encoder) => {
              staged = { withGrad: stageGrad, read: buffers.stage(encoder, resultRanges(prepared.encoded, call.problem, stageGrad)) };
            });
          }
        }, callerBuffers(logits, target, options));
        await reported;
        // destroy() during the wait destroyed the frame's buffers: no result may be made of them.
        this.#life.check(operation, true);
      } catch (error) {
        if (frame) this.#frames.discard(frame);
        throw error;
      }
      const ready = frame!;
      const result = new GpuForward<R>(device, ready.buffers, ready.prepared.encoded, call.problem,
        () => this.#frames.release(ready), <T>(read: () => Promise<T>) => this.#life.guard(operation, read), staged,
        operation === 'forward' ? 'forward' : 'forwardGpu result read', callerBuffers(logits, target, options));
      // The result has a gradient exactly when options.grad was true, which is what G says.
      return result as GpuForwardResult<R> as GpuForwardResult<R, G, GD>;
    });
  }

  /** Every check of a forward call that needs no GPU, and its plan of work. */
  #planForward(logits: LogitsInput<Dtype>, target: TargetInput, options: GpuForwardOptions): ForwardCall {
    const problem = describeProblem(logits, target, options, GPU_DATA);
    if (options.encoder !== undefined) checkEncoder(options.encoder);
    if (options.weight !== undefined) checkWeight(options.weight, problem.layout.classes, GPU_DATA);
    if (options.gradOutput !== undefined) checkGradOutput(options.gradOutput, problem, GPU_DATA);
    checkHostValues(problem, isGpuBuffer(logits.data) ? logits.data : logitValues(logits.data, problem.dtype), target.data);
    const plan = planWork(problem, this.#device.limits, !isGpuBuffer(logits.data));
    if (plan.streamed && (problem.grad || options.encoder !== undefined)) {
      throw new RangeError(`logits of ${dataBytes(problem.layout.rows * problem.layout.classes, problem.dtype)} bytes exceed this device's `
        + `maxBufferSize (${this.#device.limits.maxBufferSize}): they are streamed from the host for the loss, `
        + `which supports neither ${problem.grad ? 'grad: true' : 'a caller\'s encoder'} nor leaving them on the GPU`);
    }
    // Host logits are a private copy: the gradient goes over it, with no second N×C buffer (unless
    // it is f32 over 16-bit logits).
    const gradInPlace = problem.gradInPlace || (!isGpuBuffer(logits.data) && problem.gradDtype === problem.dtype);
    return { problem, plan, gradInPlace };
  }

  #planPasses(call: ForwardCall, options: CrossEntropyOptions): CrossEntropyPasses {
    return planPasses(call.problem, call.plan, { hasWeight: options.weight !== undefined,
      hasGradOutput: options.gradOutput !== undefined, gradInPlace: call.gradInPlace, subgroupSize: this.#kernels.subgroupSize });
  }

  /**
   * A frame for `key` with this call's inputs bound and its host data written, reset for a run
   * (inside the caller's error scopes).
   */
  #acquireForward(key: string, passes: CrossEntropyPasses, kernels: CompiledKernels, call: ForwardCall,
    logits: LogitsInput<Dtype>, target: TargetInput, options: CrossEntropyOptions): ForwardFrame {
    const device = this.#device;
    const frame = this.#frames.acquire(key, () => {
      const buffers = new CallBuffers(device, this.#ledger, this.#poison);
      try {
        const inputs = inputBuffers(buffers, call.problem, call.plan, logits, target, options);
        const prepared = prepareCrossEntropy(device, kernels, buffers, passes, inputs);
        return { key, passes, kernels, buffers, prepared, inputs, destroy: () => buffers.destroy() };
      } catch (error) {
        buffers.destroy();
        throw error;
      }
    });
    frame.prepared.rebind(withCallerBuffers(frame.inputs, logits, target, options));
    writeHostData(device, frame.inputs, call.plan, logits, target, options);
    frame.prepared.reset();
    return frame;
  }

  /**
   * forward's work encoded and submitted without waiting, for the TF.js adapter: the same
   * validation (thrown at once), kernels made on first use without waiting, WebGPU's errors and the
   * GPU's check of class indices in a GPUBuffer reported by `reported`. Frames are keyed by the
   * kinds of the inputs, not by their buffers (a TF.js tensor's buffer is new each step): a new
   * buffer remakes the bind groups, never the frame.
   */
  #forwardSync(logits: LogitsInput<Dtype>, target: TargetInput, options: CrossEntropyOptions): SyncRun {
    const operation = 'forward';
    this.#life.check(operation);
    readOptionNames(options, 'CrossEntropy.forward');
    const call = this.#planForward(logits, target, options);
    const key = JSON.stringify(['sync', call.problem, kind(logits.data), kind(target.data), kind(options.weight),
      kind(options.gradOutput), call.gradInPlace]);
    const known = this.#frames.peek(key);
    const passes = known?.passes ?? this.#planPasses(call, options);
    const device = this.#device;
    const checkTargets = call.problem.targetKind === 'classIndex' && isGpuBuffer(target.data);
    let frame: ForwardFrame | undefined;
    let status: (() => Promise<ArrayBuffer>) | undefined;
    let loss: GPUBuffer | undefined;
    let reported: Promise<void>;
    try {
      ({ reported } = inErrorScopes(device, operation, () => {
        const kernels = known?.kernels ?? compileKernelsSync(this.#kernels, passes);
        const ready = this.#acquireForward(key, passes, kernels, call, logits, target, options);
        frame = ready;
        const { prepared } = ready;
        prepared.submit(hostOrGpu(logits.data), (encoder) => {
          loss = this.#exactLoss(ready.buffers, encoder, prepared.encoded.loss, call.problem.reduction, call.problem.layout.rows);
          if (checkTargets) status = this.#statusReads.stage(encoder, prepared.encoded.status);
        });
      }, callerBuffers(logits, target, options)));
    } catch (error) {
      if (frame) this.#frames.discard(frame);
      throw error;
    }
    const ready = frame!;
    const read = status?.();
    const checked = read?.then((bytes) => throwIfOutOfBounds(bytes, call.problem));
    return {
      loss: loss!,
      grad: ready.prepared.encoded.grad,
      reported: this.#life.guard(operation, () => Promise.all([reported, checked]).then(() => {})),
      release: () => this.#frames.release(ready),
    };
  }

  /**
   * The loss copied, in `encoder`, into a buffer of exactly its size (one value, or `count` for
   * 'none'): whoever takes it (TF.js) reads a buffer whole, and the batch loss is padded to 16
   * bytes. Made once per call's buffers (a frame's, or a binary call's own).
   */
  #exactLoss(buffers: CallBuffers, encoder: GPUCommandEncoder, loss: GPUBuffer, reduction: Reduction, count: number): GPUBuffer {
    const bytes = (reduction === 'none' ? count : 1) * ELEMENT_BYTES;
    let exact = this.#exactLosses.get(buffers);
    if (exact === undefined) {
      exact = buffers.create('loss-out', bytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
      this.#exactLosses.set(buffers, exact);
    }
    if (bytes > 0) encoder.copyBufferToBuffer(loss, 0, exact, 0, bytes);
    return exact;
  }

  /** binary's work encoded and submitted without waiting (see #forwardSync); its buffers are the run's. */
  #binarySync(logits: LogitsInput<Dtype>, target: TargetInput, options: BinaryOptions): SyncRun {
    this.#life.check('binary');
    const problem = describeBinaryProblem(logits, target, options, GPU_DATA, 'CrossEntropy.binary');
    checkBinaryBindings(this.#device.limits, problem, logits);
    const device = this.#device;
    const buffers = new CallBuffers(device, this.#ledger, this.#poison);
    try {
      const { value: run, reported } = inErrorScopes(device, 'binary', () => {
        const elementwise = problem.dtype === 'float32' ? this.#kernels.binary
          : this.#kernels.getSync('binaryHalf', { dtype: problem.dtype, gradDtype: problem.gradDtype });
        const encoder = device.createCommandEncoder({ label: 'cross-entropy:binary' });
        const encoded = encodeBinary(device, { elementwise, batchReduce: this.#kernels.batchReduce }, buffers, encoder,
          problem, logits, target, options);
        const loss = this.#exactLoss(buffers, encoder, encoded.loss, problem.reduction, problem.size);
        device.queue.submit([encoder.finish()]);
        return { loss, grad: encoded.grad };
      }, callerBuffers(logits, target, options));
      return { loss: run.loss, grad: run.grad, reported: this.#life.guard('binary', () => reported),
        release: () => buffers.destroy() };
    } catch (error) {
      buffers.destroy();
      throw error;
    }
  }

  /**
   * Binary cross-entropy, elementwise: PyTorch `BCEWithLogitsLoss` (weight, posWeight) or, with
   * `input: 'probabilities'`, `BCELoss`; 'mean' averages over all elements.
   *
   * @example
   * const { loss, grad } = await ce.binary({ data: logits, shape: [N, K] }, { data: labels, shape: [N, K] },
   *   { posWeight: new Float32Array(K).fill(3), grad: true });
   */
  async binary<R extends Reduction = 'mean', G extends boolean = false, D extends Dtype = 'float32', GD extends Dtype = D>(
    logits: LogitsInput<D>, target: TargetInput,
    options: BinaryOptions & { reduction?: R; grad?: G; gradDtype?: GD } = {}): Promise<ForwardResult<R, G, GradDtypeOf<D, GD>>> {
    this.#life.check('binary');
    const problem = describeBinaryProblem(logits, target, options, GPU_DATA, 'CrossEntropy.binary');
    checkBinaryBindings(this.#device.limits, problem, logits as LogitsInput<Dtype>);
    return this.#life.guard('binary', async () => {
      const kernels = { batchReduce: this.#kernels.batchReduce, elementwise: problem.dtype === 'float32'
        ? this.#kernels.binary : await this.#kernels.get('binaryHalf', { dtype: problem.dtype, gradDtype: problem.gradDtype }) };
      this.#life.check('binary', true);
      const buffers = new CallBuffers(this.#device, this.#ledger, this.#poison);
      try {
        const { value: run, reported } = inErrorScopes(this.#device, 'binary', () => {
          const encoder = this.#device.createCommandEncoder({ label: 'cross-entropy:binary' });
          const encoded = encodeBinary(this.#device, kernels, buffers, encoder, problem, logits, target, options);
          this.#device.queue.submit([encoder.finish()]);
          return encoded;
        }, callerBuffers(logits, target, options));
        await reported;
        // The result has a gradient exactly when options.grad was true, and a loss per element for 'none'.
        return await run.read() as ForwardResult as ForwardResult<R, G, GradDtypeOf<D, GD>>;
      } finally {
        buffers.destroy();
      }
    });
  }

  /**
   * Per-row softmax statistics of a vocabulary shard: logits [N, C_shard(, d...)] holding classes
   * [classOffset, classOffset + C_shard) of a larger vocabulary. Merge the shards' statistics with
   * `mergeRowStatistics` and get the loss with `lossFromRowStatistics`: the same loss as unsplit.
   *
   * @example
   * const a = await ce.rowStatistics({ data: left, shape: [N, 500] }, target, { classOffset: 0 });
   * const b = await ce.rowStatistics({ data: right, shape: [N, 500] }, target, { classOffset: 500 });
   * const loss = lossFromRowStatistics(mergeRowStatistics([a, b]), { reduction: 'mean' });
   */
  async rowStatistics(logits: LogitsInput<Dtype>, target: TargetInput, options: RowStatisticsOptions = {}): Promise<RowStatistics> {
    this.#life.check('rowStatistics');
    if (typeof options === 'object' && options !== null && 'labelSmoothing' in options) {
      // The statistics carry the smoothing sums whatever the smoothing: it applies when they become a loss.
      throw new TypeError('CrossEntropy.rowStatistics: options.labelSmoothing does not change the statistics; pass '
        + 'it to lossFromRowStatistics');
    }
    readOptionNames(options, 'CrossEntropy.rowStatistics');
    const { classOffset = 0, ...forwardOptions } = options;
    if (!Number.isInteger(classOffset) || classOffset < 0) {
      throw new RangeError(`CrossEntropy.rowStatistics: options.classOffset must be a non-negative integer, got ${
        classOffset}`);
    }
    const problem: Problem = { ...describeProblem(logits, target, forwardOptions, GPU_DATA), reduction: 'none' };
    if (problem.targetKind !== 'classIndex') {
      throw new TypeError('CrossEntropy.rowStatistics: target must hold class indices');
    }
    if (options.weight !== undefined) checkWeight(options.weight, problem.layout.classes, GPU_DATA);
    const plan = planWork(problem, this.#device.limits, !isGpuBuffer(logits.data));
    return this.#life.guard('rowStatistics', async () => {
      const passes = planPasses(problem, plan, { hasWeight: options.weight !== undefined, hasGradOutput: false,
        gradInPlace: false, subgroupSize: this.#kernels.subgroupSize, classOffset, sharded: true });
      const kernels = await compileKernels(this.#kernels, passes);
      this.#life.check('rowStatistics', true);
      const buffers = new CallBuffers(this.#device, this.#ledger, this.#poison);
      try {
        const { value: encoded, reported } = inErrorScopes(this.#device, 'rowStatistics', () => {
          const inputs = inputBuffers(buffers, problem, plan, logits, target, forwardOptions);
          writeHostData(this.#device, inputs, plan, logits, target, forwardOptions);
          const prepared = prepareCrossEntropy(this.#device, kernels, buffers, passes, inputs);
          prepared.reset();
          prepared.submit(hostOrGpu(logits.data));
          return prepared.encoded;
        }, callerBuffers(logits, target, forwardOptions));
        await reported;
        // Without a gradient row-loss writes every summary (row-loss-grad keeps them in registers).
        const [summary] = await buffers.read(this.#device.createCommandEncoder({ label: 'cross-entropy:read' }),
          [{ buffer: encoded.rowSummary!, bytes: plan.rows * ROW_SUMMARY.byteSize }]);
        return readRowStatistics(summary!, problem);
      } finally {
        buffers.destroy();
      }
    });
  }

  /**
   * The linear head: cross-entropy of `hidden · classifierᵀ + bias` with class-index targets, and
   * the gradients asked for (of hidden, classifier, bias), without ever holding all N × V logits:
   * rows go in chunks whose logits fit `memoryBudget`, through the same row kernels as `forward`.
   * Reads the loss and gradients back.
   *
   * @example
   * const { loss, grad } = await ce.linear(
   *   { data: hidden, shape: [N, D] }, { data: classifier, shape: [V, D] }, { data: target, shape: [N] },
   *   { bias, grad: true },
   * );
   * grad.hidden; grad.classifier; grad.bias; // [N, D], [V, D], [V]
   */
  async linear<R extends Reduction = 'mean'>(hidden: LinearInput, classifier: LinearInput, target: TargetInput,
    options: LinearOptions & { reduction?: R } = {}): Promise<LinearResult<R>> {
    const run = await this.#linearGpu<R>(hidden, classifier, target, options, 'linear');
    try {
      return await run.read();
    } finally {
      run.destroy();
    }
  }

  /**
   * The linear head, left on the GPU (as `forwardGpu`): the loss and the gradients in GPUBuffers the
   * result owns until `destroy()`; with `options.encoder` the work goes into the caller's encoder.
   *
   * @example
   * const run = await ce.linearGpu(hidden, classifier, target, { grad: { hidden: true, classifier: true }, encoder });
   * // ... encode the optimizer's update from run.grad.hidden and run.grad.classifier ...
   * device.queue.submit([encoder.finish()]);
   * await run.check();
   * run.destroy();
   */
  async linearGpu<R extends Reduction = 'mean'>(hidden: LinearInput, classifier: LinearInput, target: TargetInput,
    options: GpuLinearOptions & { reduction?: R } = {}): Promise<GpuLinearResult<R>> {
    return this.#linearGpu<R>(hidden, classifier, target, options, 'linearGpu');
  }

  async #linearGpu<R extends Reduction>(hidden: LinearInput, classifier: LinearInput, target: TargetInput,
    options: GpuLinearOptions, operation: 'linear' | 'linearGpu'): Promise<GpuLinear<R>> {
    this.#life.check(operation);
    readOptionNames(options, `CrossEntropy.${operation}`);
    const call = this.#planLinear(hidden, classifier, target, options, operation);
    const { problem, plan, memoryBudget } = call;
    return this.#life.guard(operation, async () => {
      const key = JSON.stringify(['linear', problem, memoryBudget, identity(hidden.data), identity(classifier.data),
        identity(target.data), identity(options.bias), identity(options.weight), identity(options.gradOutput)]);
      const known = this.#linearFrames.peek(key);
      const work = known?.work ?? this.#planLinearWork(call, classifier, options);
      const kernels = known?.kernels ?? await compileLinearKernels(this.#kernels, work);
      this.#life.check(operation, true);
      const device = this.#device;
      const callers = linearCallerBuffers(hidden, classifier, target, options);
      let frame: LinearFrame | undefined;
      try {
        const { reported } = inErrorScopes(device, operation, () => {
          frame = this.#acquireLinear(key, work, kernels, call, hidden, classifier, target, options);
          const encoder = options.encoder ?? device.createCommandEncoder({ label: 'cross-entropy:linear' });
          frame.prepared.encode(encoder);
          if (options.encoder === undefined) device.queue.submit([encoder.finish()]);
        }, callers);
        await reported;
        this.#life.check(operation, true);
      } catch (error) {
        if (frame) this.#linearFrames.discard(frame);
        throw error;
      }
      const ready = frame!;
      const readName = operation === 'linear' ? 'linear' : 'linearGpu result read';
      const rows = new GpuForward<R>(device, ready.buffers, ready.prepared.encoded.rows, problem.rowProblem,
        () => this.#linearFrames.release(ready), <T>(read: () => Promise<T>) => this.#life.guard(operation, read), undefined,
        readName, callers);
      return new GpuLinear<R>(device, ready.buffers, ready.prepared.encoded, problem, rows,
        ready.work.classifierOutputs.map((out) => out.classes), memoryBudget ?? DEFAULT_MEMORY_BUDGET, readName, callers);
    });
  }

  /** Every check of a linear-head call that needs no GPU, and its plan. */
  #planLinear(hidden: LinearInput, classifier: LinearInput, target: TargetInput, options: GpuLinearOptions,
    operation: 'linear' | 'linearGpu'): LinearCall {
    const problem = describeLinearProblem(hidden, classifier, target, options, GPU_DATA);
    if (options.encoder !== undefined) checkEncoder(options.encoder);
    const memoryBudget = readMemoryBudget(options.memoryBudget);
    checkLinearValues(problem, target.data, options, GPU_DATA);
    const limits = this.#device.limits;
    const plan = planLinear(problem, limits, memoryBudget);
    checkLinearBuffers(problem, plan, limits, hidden, classifier, operation);
    return { problem, plan, memoryBudget };
  }

  #planLinearWork({ problem, plan }: LinearCall, classifier: LinearInput, options: LinearOptions): LinearWork {
    return planLinearWork(problem, plan, planPasses(problem.rowProblem, plan.work, {
      hasWeight: options.weight !== undefined, hasGradOutput: options.gradOutput !== undefined,
      gradInPlace: problem.rowProblem.grad, subgroupSize: this.#kernels.subgroupSize, piecewise: true,
    }), this.#device.limits, isGpuBuffer(classifier.data));
  }

  /** A linear frame for `key` with this call's inputs bound and host data written, reset for a run. */
  #acquireLinear(key: string, work: LinearWork, kernels: LinearKernels, { problem, plan }: LinearCall,
    hidden: LinearInput, classifier: LinearInput, target: TargetInput, options: LinearOptions): LinearFrame {
    const device = this.#device;
    const frame = this.#linearFrames.acquire(key, () => {
      const buffers = new CallBuffers(device, this.#ledger, this.#poison);
      try {
        const inputs = linearInputBuffers(buffers, problem, plan, hidden, classifier, target, options);
        const prepared = prepareLinear(device, kernels, buffers, problem, work, inputs);
        return { key, work, kernels, buffers, prepared, inputs, destroy: () => buffers.destroy() };
      } catch (error) {
        buffers.destroy();
        throw error;
      }
    });
    frame.prepared.rebind(withLinearCallerBuffers(frame.inputs, hidden, classifier, target, options));
    writeLinearHostData(device, frame.inputs, plan, hidden, classifier, target, options);
    frame.prepared.reset();
    return frame;
  }

  /** linearGpu's work submitted without waiting, for the TF.js adapter (see #forwardSync). */
  #linearSync(hidden: LinearInput, classifier: LinearInput, target: TargetInput, options: LinearOptions): SyncLinearRun {
    const operation = 'linearGpu';
    this.#life.check(operation);
    readOptionNames(options, 'CrossEntropy.linear');
    const call = this.#planLinear(hidden, classifier, target, options, operation);
    const key = JSON.stringify(['linear-sync', call.problem, call.memoryBudget, kind(hidden.data), kind(classifier.data),
      kind(target.data), kind(options.bias), kind(options.weight), kind(options.gradOutput)]);
    const known = this.#linearFrames.peek(key);
    const work = known?.work ?? this.#planLinearWork(call, classifier, options);
    const device = this.#device;
    let frame: LinearFrame | undefined;
    let status: (() => Promise<ArrayBuffer>) | undefined;
    let loss: GPUBuffer | undefined;
    let reported: Promise<void>;
    try {
      ({ reported } = inErrorScopes(device, operation, () => {
        const kernels = known?.kernels ?? compileLinearKernelsSync(this.#kernels, work);
        frame = this.#acquireLinear(key, work, kernels, call, hidden, classifier, target, options);
        const encoder = device.createCommandEncoder({ label: 'cross-entropy:linear' });
        frame.prepared.encode(encoder);
        loss = this.#exactLoss(frame.buffers, encoder, frame.prepared.encoded.rows.loss, call.problem.rowProblem.reduction,
          call.problem.rows);
        if (isGpuBuffer(target.data)) status = this.#statusReads.stage(encoder, frame.prepared.encoded.rows.status);
        device.queue.submit([encoder.finish()]);
      }, linearCallerBuffers(hidden, classifier, target, options)));
    } catch (error) {
      if (frame) this.#linearFrames.discard(frame);
      throw error;
    }
    const ready = frame!;
    const checked = status?.().then((bytes) => throwIfOutOfBounds(bytes, call.problem.rowProblem));
    const { hidden: gradHidden, classifier: gradClassifier, bias } = ready.prepared.encoded;
    return {
      loss: loss!,
      grad: { hidden: gradHidden, classifier: gradClassifier?.[0], bias },
      reported: this.#life.guard(operation, () => Promise.all([reported, checked]).then(() => {})),
      release: () => this.#linearFrames.release(ready),
    };
  }

  /** Frees what this instance created: the device too, if it requested it. Never the caller's device. */
  destroy(): void {
    if (!this.#life.end()) return;
    this.#frames.destroy();
    this.#linearFrames.destroy();
    this.#statusReads.destroy();
    if (this.#ownsDevice) this.#device.destroy();
  }
}
