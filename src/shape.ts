/**
 * Shapes as PyTorch's cross_entropy reads them: logits [C], [N, C] or [N, C, d1, ..., dk], with the
 * class dimension at index 1 (index 0 for a single unbatched sample).
 */

/** How a logits shape maps onto rows of classes. */
export interface RowLayout {
  /** N·d1·…·dk: one row per position that has its own target. */
  readonly rows: number;
  /** C: the length of the class dimension. */
  readonly classes: number;
  /** d1·…·dk: the distance, in elements, between two classes of one row (1 for [N, C]). */
  readonly inner: number;
  /** The shape of a class-index target and of a 'none' loss: the logits' shape without classes. */
  readonly rowShape: readonly number[];
}

/** Product of dimensions. Callers check the dimensions first (non-negative integers). */
export function product(dims: readonly number[]): number {
  return dims.reduce((acc, d) => acc * d, 1);
}

/** Reads a validated logits shape as rows of classes. */
export function rowLayout(shape: readonly number[]): RowLayout {
  if (shape.length === 1) {
    return { rows: 1, classes: shape[0]!, inner: 1, rowShape: [] };
  }
  const [batch, classes, ...spatial] = shape as [number, number, ...number[]];
  const inner = product(spatial);
  return { rows: batch * inner, classes, inner, rowShape: [batch, ...spatial] };
}

/** "[2, 3]" for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The multi-index of a flat row-major position, as "[1, 0, 2]" (or "[]" for a scalar). */
export function formatPosition(flat: number, shape: readonly number[]): string {
  const index: number[] = new Array(shape.length);
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const dim = shape[axis]!;
    index[axis] = rest % dim;
    rest = Math.floor(rest / dim);
  }
  return formatShape(index);
}

/** Whether two shapes have the same dimensions. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
