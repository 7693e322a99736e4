/** Public types of the package: what callers pass in and get back. */

/** How per-row losses are combined, as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * What the values along the class dimension are: raw scores ('logits', softmax applied here),
 * already-normalised probabilities (log taken directly, clamped at -100), or log-probabilities used
 * as they are (PyTorch's `nll_loss`).
 */
export type InputKind = 'logits' | 'probabilities' | 'logProbabilities';

/** A dense row-major tensor: its values and its dimensions. */
export interface Tensor<Data> {
  readonly data: Data;
  readonly shape: readonly number[];
}

/**
 * How the logits' values are stored: f32, or one of two 16-bit formats, IEEE binary16 ('float16')
 * and bfloat16 (the top half of an f32). The arithmetic is f32 either way.
 */
export type Dtype = 'float32' | 'float16' | 'bfloat16';

/**
 * Logits [C], [N, C] or [N, C, d1, ..., dk], on the host or in a GPU storage buffer:
 * - 'float32' (the default): a Float32Array, or a GPUBuffer of f32 values;
 * - 'float16' or 'bfloat16': a Uint16Array of the values' bit patterns (for 'float16' also a
 *   Float16Array, where the runtime has one), or a GPUBuffer holding them packed two per 32-bit
 *   word, row-major, rows not padded (a row of odd length shares a word with the next).
 */
export interface LogitsInput<D extends Dtype = 'float32'> extends Tensor<LogitsData> {
  readonly dtype?: D;
}

/** What logits' data may be: see LogitsInput. */
export type LogitsData = Float32Array | Uint16Array | Float16ArrayLike | GPUBuffer;

/** A Float16Array (ES2025), by the tag that tells it from other typed arrays, for older TypeScript libs. */
export interface Float16ArrayLike extends ArrayBufferView {
  readonly [Symbol.toStringTag]: 'Float16Array';
  readonly length: number;
}

/**
 * Targets: class indices (Int32Array or i32 GPUBuffer) with the logits' shape minus the class
 * dimension, or class probabilities (Float32Array or f32 GPUBuffer) with the logits' own shape.
 */
export type TargetInput = Tensor<Int32Array | Float32Array | GPUBuffer>;

/** Options of a forward pass; every field has PyTorch's default. */
export interface CrossEntropyOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  readonly reduction?: Reduction;
  /** Per-class weight, length C (PyTorch `weight`). Absent: all ones. */
  readonly weight?: Float32Array | GPUBuffer;
  /** Class-index targets equal to this are ignored (default -100). */
  readonly ignoreIndex?: number;
  /** Label smoothing epsilon in [0, 1] (default 0). */
  readonly labelSmoothing?: number;
  /** What the input values are (default 'logits'). */
  readonly input?: InputKind;
  /** Coefficient of lse² added to each used row's loss (PaLM's z-loss; default 0, logits only). */
  readonly zLoss?: number;
  /** Logits become softcap·tanh(x / softcap) before the softmax (Gemma 2; default off, logits only). */
  readonly softcap?: number;
  /** Also compute d(loss)/d(input), with the input's shape (default false). */
  readonly grad?: boolean;
  /** Upstream gradient for reduction 'none', one value per row (default: ones). */
  readonly gradOutput?: Float32Array | GPUBuffer;
  /**
   * Write the gradient over the logits instead of a new buffer, as Liger does (default false). For a
   * GPUBuffer input this overwrites the caller's logits; host arrays are always uploaded to a copy,
   * which then holds the gradient, so no second N×C buffer is ever made for them.
   */
  readonly gradInPlace?: boolean;
  /**
   * The gradient's dtype: the logits' own (the default; a 16-bit gradient is rounded to nearest
   * even from its f32 value), or 'float32' for 16-bit logits whose gradient should stay f32.
   */
  readonly gradDtype?: Dtype;
}

/** Options of `forwardGpu`: the forward options, plus where to encode. */
export interface GpuForwardOptions extends CrossEntropyOptions {
  /**
   * Encode into this command encoder; the caller submits it (and must do so before `read()`).
   * Absent: the work is submitted at once, without any readback.
   */
  readonly encoder?: GPUCommandEncoder;
}

/** The loss type that goes with a reduction: a number, or one value per row for 'none'. */
export type LossOf<R extends Reduction> = R extends 'none' ? Float32Array : number;

/**
 * The gradient that goes with `options.grad`: always there for `grad: true`, never for `false` or no
 * `grad`, and maybe for a `boolean` not known when compiling.
 */
export type GradOf<G extends boolean, Data> = [G] extends [true] ? { readonly grad: Data }
  : [G] extends [false] ? { readonly grad?: undefined }
    : { readonly grad?: Data };

/**
 * Result of `CrossEntropy.forward` (and `binary`): the loss, a `number` or for `reduction: 'none'`
 * one value per row (the target's shape, flattened); and with `grad: true`, d(loss)/d(input), the
 * input's shape flattened.
 *
 * @example
 * const { loss, grad } = await ce.forward(logits, target, { grad: true }); // loss: number, grad: Float32Array
 * const rows = await ce.forward(logits, target, { reduction: 'none' });    // rows.loss: Float32Array
 */
export type ForwardResult<R extends Reduction = Reduction, G extends boolean = boolean, GD extends Dtype = 'float32'> =
  { readonly loss: LossOf<R> } & GradOf<G, GradData<GD>>;

/**
 * A host gradient of dtype `GD`: a Float32Array, or for 16-bit gradients a Uint16Array of their
 * bit patterns (`decodeHalf` gives their values; a Float16Array can view the same bytes).
 */
export type GradData<GD extends Dtype> = GD extends 'float32' ? Float32Array : Uint16Array;

/**
 * The gradient's dtype for logits of dtype D and options.gradDtype GD: f32 logits always have an
 * f32 gradient, whatever an options object's type says.
 */
export type GradDtypeOf<D extends Dtype, GD extends Dtype> = [D] extends ['float32'] ? 'float32' : GD;

/**
 * The result of `forwardGpu`, left on the GPU. It owns `loss`, `grad` (unless the gradient was
 * written in place over the caller's logits) and every scratch buffer, until `destroy()`. The
 * caller's own buffers (logits, target, weight, gradOutput) are never destroyed. `grad`, a buffer
 * of the input's shape in the gradient's dtype (f32, or 16-bit values packed two per word; a new
 * buffer, or the caller's logits if in place), is there exactly when `grad: true` was passed.
 *
 * @example
 * const run = await ce.forwardGpu(logits, target, { grad: true }); // run.grad: GPUBuffer
 */
export type GpuForwardResult<R extends Reduction = Reduction, G extends boolean = boolean, GD extends Dtype = 'float32'> =
  GpuForwardReads<R, G, GD> & GradOf<G, GPUBuffer>;

/** What a `GpuForwardResult` holds besides its gradient. */
export interface GpuForwardReads<R extends Reduction = Reduction, G extends boolean = boolean, GD extends Dtype = 'float32'> {
  /**
   * f32: one value for 'mean' / 'sum', one per row for 'none', from byte 0. The buffer is padded
   * to whole 16 bytes (the batch reduction reads vec4s): copy 4 or rows * 4 bytes, not its size.
   */
  readonly loss: GPUBuffer;
  /**
   * Reads loss (and gradient) back. Rejects with a RangeError if the GPU found out-of-range class
   * indices (their count, the first position and its value).
   */
  read(): Promise<ForwardResult<R, G, GD>>;
  /** Reads back the loss only (the gradient stays on the GPU), checking validation as `read()`. */
  readLoss(): Promise<ForwardResult<R>>;
  /** Reads back only the GPU-side validation (8 bytes) and rejects as `read()` would. */
  check(): Promise<void>;
  /** Frees every buffer this result owns. */
  destroy(): void;
}

/** Options of the float64 CPU reference: the forward options, with host arrays only. */
export interface ReferenceOptions extends Omit<CrossEntropyOptions, 'weight' | 'gradOutput' | 'gradInPlace'> {
  readonly weight?: Float32Array | Float64Array;
  /** Upstream gradient for reduction 'none', one value per row (default: ones). */
  readonly gradOutput?: Float32Array | Float64Array;
}

/** Result of `crossEntropyReference`, in float64. */
export interface ReferenceResult {
  readonly loss: number | Float64Array;
  readonly grad?: Float64Array;
  /**
   * The reduction applied to |row loss| and to 1 per row (for 'mean': divided by the same
   * denominator). They size the rounding error a reduced loss may carry: see `compareWithReference`.
   */
  readonly magnitude: { readonly absLoss: number; readonly rows: number };
  /**
   * The dtype a GPU gradient of the same call comes in (the logits' dtype, or options.gradDtype):
   * `compareWithReference` reads a 16-bit gradient with it and allows the half ulp of its rounding.
   */
  readonly gradDtype: Dtype;
}

/**
 * Hidden states [N, D] (or [d0, …, dk, D]) or a classifier [V, D] of the linear head: f32 (a
 * Float32Array or a GPUBuffer), or 16-bit as logits are (a Uint16Array of bit patterns, a
 * Float16Array, or a GPUBuffer of values packed two per word).
 */
export interface LinearInput<D extends Dtype = Dtype> extends Tensor<LogitsData> {
  readonly dtype?: D;
}

/** Which gradients the linear head computes: all three (`true`), or those named. */
export type LinearGradRequest = boolean | { readonly hidden?: boolean; readonly classifier?: boolean; readonly bias?: boolean };

/** Options of `CrossEntropy.linear`: the class-index options of `forward`, and the head's own. */
export interface LinearOptions {
  /** Added to every row's logits: f32, length V (nn.Linear's bias). Absent: none. */
  readonly bias?: Float32Array | GPUBuffer;
  readonly reduction?: Reduction;
  /** Per-class weight, length V. */
  readonly weight?: Float32Array | GPUBuffer;
  readonly ignoreIndex?: number;
  readonly labelSmoothing?: number;
  readonly zLoss?: number;
  readonly softcap?: number;
  /** Upstream gradient for reduction 'none', one value per row. */
  readonly gradOutput?: Float32Array | GPUBuffer;
  /** Gradients to compute (default none). */
  readonly grad?: LinearGradRequest;
  /** 'float32': 16-bit inputs' gradients in f32 instead of their own dtype. */
  readonly gradDtype?: 'float32';
  /**
   * Bytes of logits one chunk of rows may hold (default 32 MiB; at least one chunk of 64 rows, the
   * storage alignment's, is used whatever the budget). Smaller: less memory, more, smaller matmuls.
   */
  readonly memoryBudget?: number;
}

/** Options of `CrossEntropy.linearGpu`: the linear options, plus where to encode. */
export interface GpuLinearOptions extends LinearOptions {
  /** Encode into this command encoder; the caller submits it (before `read()`). */
  readonly encoder?: GPUCommandEncoder;
}

/**
 * Gradients of the linear head read back, each in its input's shape (flattened) and dtype: a
 * Float32Array, or a Uint16Array of 16-bit bit patterns; the bias's is always f32. Present when
 * asked for.
 */
export interface LinearGradData {
  readonly hidden?: Float32Array | Uint16Array;
  readonly classifier?: Float32Array | Uint16Array;
  readonly bias?: Float32Array;
}

/** Result of `CrossEntropy.linear`: the loss, and the gradients asked for. */
export interface LinearResult<R extends Reduction = Reduction> {
  readonly loss: LossOf<R>;
  readonly grad?: LinearGradData;
}

/** The gradients of a `linearGpu` result, in GPUBuffers the result owns (packed two per word when 16-bit). */
export interface LinearGradBuffers {
  readonly hidden?: GPUBuffer;
  readonly classifier?: GPUBuffer;
  readonly bias?: GPUBuffer;
}

/** The result of `linearGpu`, left on the GPU; it owns its buffers until `destroy()`. */
export interface GpuLinearResult<R extends Reduction = Reduction> {
  /** f32: one value for 'mean' / 'sum', one per row for 'none' (padded: copy 4 or rows * 4 bytes). */
  readonly loss: GPUBuffer;
  /** The gradients asked for; absent without any. */
  readonly grad?: LinearGradBuffers;
  /** Reads the loss and the gradients back (rejects on out-of-range class indices, as forwardGpu's). */
  read(): Promise<LinearResult<R>>;
  /** Reads the loss only. */
  readLoss(): Promise<LinearResult<R>>;
  /** Reads back only the GPU-side validation, rejecting as `read()` would. */
  check(): Promise<void>;
  destroy(): void;
}
