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

/** Logits [C], [N, C] or [N, C, d1, ..., dk]: f32 values on the host or in a GPU storage buffer. */
export type LogitsInput = Tensor<Float32Array | GPUBuffer>;

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
}

/** The loss type that goes with a reduction: a number, or one value per row for 'none'. */
export type LossOf<R extends Reduction> = R extends 'none' ? Float32Array : number;

/** Result of `CrossEntropy.forward`. */
export interface ForwardResult<R extends Reduction = Reduction> {
  /** The reduced loss, or the per-row losses (the target's shape, flattened) for 'none'. */
  readonly loss: LossOf<R>;
}

/** Options of the float64 CPU reference: the forward options, plus the gradient switches. */
export interface ReferenceOptions extends Omit<CrossEntropyOptions, 'weight'> {
  readonly weight?: Float32Array | Float64Array;
  /** Also return d(loss)/d(logits) (default false). */
  readonly grad?: boolean;
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
}
