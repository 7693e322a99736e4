/**
 * The result of a linear-head call left on the GPU: the loss and validation read as a forward
 * result's are (GpuForward over the call's row buffers), the gradients read back on demand.
 */
import type { LinearProblem } from '../linear-problem.js';
import { dataBytes } from '../options.js';
import type { Dtype, GpuLinearResult, LinearGradBuffers, LinearGradData, LinearResult, Reduction } from '../types.js';
import type { CallBuffers, ReadRange } from './buffers.js';
import type { CallerBuffers } from './error-scopes.js';
import type { EncodedLinear } from './encode-linear.js';
import type { GpuForward } from './forward-result.js';

export class GpuLinear<R extends Reduction> implements GpuLinearResult<R> {
  readonly #device: GPUDevice;
  readonly #buffers: CallBuffers;
  readonly #encoded: EncodedLinear;
  readonly #problem: LinearProblem;
  readonly #rows: GpuForward<R>;
  readonly #operation: string;
  readonly #callers: CallerBuffers;
  readonly #classifierClasses: readonly number[];
  readonly #stagingBytes: number;

  /**
   * `rows` reads the loss and the status and owns the call's release; `classifierClasses` are the
   * classes of each d(classifier) buffer, in order; gradients are read back `stagingBytes` at most
   * at a time.
   */
  constructor(device: GPUDevice, buffers: CallBuffers, encoded: EncodedLinear, problem: LinearProblem,
    rows: GpuForward<R>, classifierClasses: readonly number[], stagingBytes: number, operation: string,
    callers: CallerBuffers) {
    // Whole words (a 16-bit part ends on one), and whole 4-byte copies.
    this.#stagingBytes = Math.max(4, Math.floor(stagingBytes / 4) * 4);
    this.#device = device;
    this.#buffers = buffers;
    this.#encoded = encoded;
    this.#problem = problem;
    this.#rows = rows;
    this.#classifierClasses = classifierClasses;
    this.#operation = operation;
    this.#callers = callers;
  }

  get loss(): GPUBuffer {
    return this.#rows.loss;
  }

  get grad(): LinearGradBuffers | undefined {
    const { hidden, classifier, bias } = this.#encoded;
    if (!hidden && !classifier && !bias) return undefined;
    return { hidden, classifier: classifier?.[0], bias };
  }

  check(): Promise<void> {
    return this.#rows.check();
  }

  async readLoss(): Promise<LinearResult<R>> {
    return { loss: (await this.#rows.readLoss()).loss };
  }

  async read(): Promise<LinearResult<R>> {
    const { loss } = await this.#rows.readLoss();
    const { hidden, classifier, bias } = this.#encoded;
    if (!hidden && !classifier && !bias) return { loss };
    const { rows, depth, classes } = this.#problem;
    const ranges: ReadRange[] = [];
    if (hidden) ranges.push({ buffer: hidden, bytes: dataBytes(rows * depth, this.#problem.hiddenGradDtype) });
    classifier?.forEach((buffer, i) => ranges.push({ buffer,
      bytes: dataBytes(this.#classifierClasses[i]! * depth, this.#problem.classifierGradDtype) }));
    if (bias) ranges.push({ buffer: bias, bytes: classes * 4 });
    const read = await this.#readInParts(ranges);
    let next = 0;
    const grad: { hidden?: Float32Array | Uint16Array; classifier?: Float32Array | Uint16Array; bias?: Float32Array } = {};
    if (hidden) grad.hidden = values(read[next++]!, rows * depth, this.#problem.hiddenGradDtype);
    if (classifier) {
      const parts = classifier.map(() => read[next++]!);
      grad.classifier = values(concat(parts), classes * depth, this.#problem.classifierGradDtype);
    }
    if (bias) grad.bias = new Float32Array(read[next++]!);
    return { loss, grad: grad as LinearGradData };
  }

  destroy(): void {
    this.#rows.destroy();
  }

  /**
   * Reads `ranges` back through a staging buffer of at most the call's memory budget, in as many
   * rounds as that takes: reading gradients back never needs their size again in GPU memory.
   */
  async #readInParts(ranges: readonly ReadRange[]): Promise<ArrayBuffer[]> {
    const parts: { range: ReadRange; into: number; at: number }[] = [];
    ranges.forEach((range, into) => {
      for (let at = 0; at < range.bytes; at += this.#stagingBytes) {
        parts.push({ range: { buffer: range.buffer, offset: (range.offset ?? 0) + at,
          bytes: Math.min(this.#stagingBytes, range.bytes - at) }, into, at });
      }
    });
    const results = ranges.map((range) => new Uint8Array(range.bytes));
    while (parts.length > 0) {
      const round: typeof parts = [];
      let bytes = 0;
      while (parts.length > 0 && bytes + parts[0]!.range.bytes <= this.#stagingBytes) {
        const part = parts.shift()!;
        bytes += part.range.bytes;
        round.push(part);
      }
      const read = await this.#buffers.read(this.#device.createCommandEncoder({ label: 'cross-entropy:read' }),
        round.map((part) => part.range), this.#operation, this.#callers);
      round.forEach((part, i) => results[part.into]!.set(new Uint8Array(read[i]!), part.at));
    }
    return results.map((result) => result.buffer);
  }
}

/** `count` values of `dtype` from the start of `bytes` (a 16-bit count may end inside a word). */
function values(bytes: ArrayBuffer, count: number, dtype: Dtype): Float32Array | Uint16Array {
  return dtype === 'float32' ? new Float32Array(bytes, 0, count) : new Uint16Array(bytes, 0, count);
}

/**
 * Buffers read back one after another, as one. Parts of a 16-bit gradient other than the last hold
 * whole words (a store holds an even count, or the parts would be misaligned: see planLinear).
 */
function concat(parts: readonly ArrayBuffer[]): ArrayBuffer {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  return joined.buffer;
}
