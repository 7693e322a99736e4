/**
 * The result of a forward pass left on the GPU: reads it back on demand, turns the GPU-side
 * validation status into a RangeError, and frees what the call made.
 */
import { dataBytes, type Problem } from '../options.js';
import { formatPosition } from '../shape.js';
import type { Dtype, ForwardResult, GpuForwardResult, LossOf, Reduction } from '../types.js';
import type { CallBuffers, ReadRange, StagedRead } from './buffers.js';
import type { CallerBuffers } from './error-scopes.js';
import { ELEMENT_BYTES } from './constants.js';
import { NOT_RUN, type EncodedCrossEntropy } from './encode-cross-entropy.js';
import { STATUS } from './shader-structs.js';
import { readStructField } from './wgsl-struct.js';

/** What `read()` (withGrad) or `readLoss()` copies back: the status, the loss and maybe the gradient. */
export function resultRanges(encoded: EncodedCrossEntropy, problem: Problem, withGrad: boolean): ReadRange[] {
  const { rows, classes } = problem.layout;
  const lossBytes = (problem.reduction === 'none' ? rows : 1) * ELEMENT_BYTES;
  const ranges = [
    { buffer: encoded.status, bytes: STATUS.byteSize },
    { buffer: encoded.loss, bytes: lossBytes },
  ];
  if (withGrad && encoded.grad) ranges.push({ buffer: encoded.grad, bytes: dataBytes(rows * classes, problem.gradDtype) });
  return ranges;
}

/** The result's copies encoded with its computation (resultRanges), for the first read they serve. */
export interface StagedResult {
  readonly withGrad: boolean;
  readonly read: StagedRead;
}

export class GpuForward<R extends Reduction> implements GpuForwardResult<R, boolean, Dtype> {
  readonly #device: GPUDevice;
  readonly #buffers: CallBuffers;
  readonly #encoded: EncodedCrossEntropy;
  readonly #problem: Problem;
  readonly #release: () => void;
  readonly #guard: <T>(read: () => Promise<T>) => Promise<T>;
  readonly #operation: string;
  readonly #callers: CallerBuffers;
  #staged: StagedResult | undefined;
  #released = false;

  /**
   * `release` hands the call's buffers back (to the frame pool) when the result is destroyed;
   * `guard` runs each read so that one failing because the instance or device is gone says so;
   * `staged`, copies of the result submitted with the computation, serves the first read. A WebGPU
   * error while reading names `operation` and, for one of `callers`, the caller's argument.
   */
  constructor(device: GPUDevice, buffers: CallBuffers, encoded: EncodedCrossEntropy, problem: Problem,
    release: () => void, guard: <T>(read: () => Promise<T>) => Promise<T>, staged: StagedResult | undefined,
    operation: string, callers: CallerBuffers) {
    this.#device = device;
    this.#buffers = buffers;
    this.#encoded = encoded;
    this.#problem = problem;
    this.#release = release;
    this.#guard = guard;
    this.#staged = staged;
    this.#operation = operation;
    this.#callers = callers;
  }

  get loss(): GPUBuffer {
    return this.#encoded.loss;
  }

  get grad(): GPUBuffer | undefined {
    return this.#encoded.grad;
  }

  check(): Promise<void> {
    return this.#guard(async () => {
      this.#checkNotDestroyed();
      const staged = this.#takeStaged(false);
      const [status] = staged ? await this.#buffers.readStaged(staged)
        : await this.#copyBack([{ buffer: this.#encoded.status, bytes: STATUS.byteSize }]);
      await this.#throwIfBad(status!);
    });
  }

  read(): Promise<ForwardResult<R, boolean, Dtype>> {
    return this.#guard(() => this.#read(true));
  }

  readLoss(): Promise<ForwardResult<R>> {
    return this.#guard(() => this.#read(false) as Promise<ForwardResult<R>>);
  }

  #checkNotDestroyed(): void {
    if (this.#released) throw new Error('GpuForwardResult: read after destroy(); its buffers are gone');
  }

  async #read(withGrad: boolean): Promise<ForwardResult<R, boolean, Dtype>> {
    this.#checkNotDestroyed();
    const staged = this.#takeStaged(withGrad);
    const [status, loss, grad] = staged ? await this.#buffers.readStaged(staged)
      : await this.#copyBack(resultRanges(this.#encoded, this.#problem, withGrad));
    await this.#throwIfBad(status!);
    const values = new Float32Array(loss!);
    const result = { loss: (this.#problem.reduction === 'none' ? values : values[0]!) as LossOf<R> };
    if (!withGrad || !grad) return result;
    // A 16-bit gradient fills whole words: the last half-word of an odd count is not the result's.
    const { rows, classes } = this.#problem.layout;
    return { ...result, grad: this.#problem.gradDtype === 'float32' ? new Float32Array(grad)
      : new Uint16Array(grad, 0, rows * classes) };
  }

  /**
   * The staged copies, if they hold what a read needs (the status and the loss always; the gradient
   * when asked for and there is one), for this read only: any read after it, or the first if they
   * do not serve, copies again (the staging buffer is then another read's).
   */
  #takeStaged(withGrad: boolean): StagedRead | undefined {
    const staged = this.#staged;
    this.#staged = undefined;
    return staged && (staged.withGrad || !withGrad || !this.#encoded.grad) ? staged.read : undefined;
  }

  destroy(): void {
    if (this.#released) return;
    this.#released = true;
    this.#release();
  }

  #copyBack(ranges: readonly ReadRange[]): Promise<ArrayBuffer[]> {
    return this.#buffers.read(this.#device.createCommandEncoder({ label: 'cross-entropy:read' }), ranges,
      this.#operation, this.#callers);
  }

  async #throwIfBad(status: ArrayBuffer): Promise<void> {
    const { badCount, firstBadRow } = readStatus(status);
    if (badCount === 0) return;
    if (badCount === NOT_RUN) {
      throw new Error('CrossEntropy.forwardGpu: the result was read before its work ran: submit the command encoder '
        + 'given as options.encoder (device.queue.submit([encoder.finish()])) before read(), readLoss() or check()');
    }
    // row-loss leaves the offending index's bits in that row's loss slot.
    const [bits] = await this.#copyBack(
      [{ buffer: this.#encoded.rowLoss, offset: firstBadRow * ELEMENT_BYTES, bytes: ELEMENT_BYTES }]);
    throw outOfBoundsError(this.#problem, badCount, firstBadRow, new Int32Array(bits!)[0]);
  }
}

function readStatus(status: ArrayBuffer): { badCount: number; firstBadRow: number } {
  const [badCount] = readStructField(status, STATUS, 'bad_target_count', 1);
  const [firstBadRow] = readStructField(status, STATUS, 'first_bad_row', 1);
  return { badCount: badCount!, firstBadRow: firstBadRow! };
}

/** The RangeError for out-of-range class indices found on the GPU: their count, the first, its value if known. */
function outOfBoundsError(problem: Problem, badCount: number, firstBadRow: number, value?: number): RangeError {
  return new RangeError(`target has ${badCount} class ${badCount === 1 ? 'index' : 'indices'} out of bounds; the first is `
    + `target${formatPosition(firstBadRow, problem.targetShape)}${value === undefined ? '' : ` = ${value}`}: class indices `
    + `must be in [0, ${problem.layout.classes - 1}] or ignoreIndex (${problem.ignoreIndex})`);
}

/**
 * Throws outOfBoundsError (without the value) if a status block read back from a submitted call
 * counted out-of-range class indices.
 */
export function throwIfOutOfBounds(status: ArrayBuffer, problem: Problem): void {
  const { badCount, firstBadRow } = readStatus(status);
  if (badCount !== 0) throw outOfBoundsError(problem, badCount, firstBadRow);
}
