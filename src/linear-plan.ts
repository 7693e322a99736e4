/**
 * How a linear-head call is cut to fit the device: rows in chunks whose logits fit the memory
 * budget (and one storage binding), the vocabulary in slices whose classifier rows fit one binding,
 * and the classifier (and its f32 gradient) in stores that each fit one buffer. Nothing here
 * touches a GPU.
 */
import { dtypeBytes } from './half-precision.js';
import type { LinearProblem } from './linear-problem.js';
import { planWork, UNALIGNED_MIN_CLASSES, type PlanLimits, type WorkPlan } from './plan.js';

/** The default `memoryBudget`: bytes of logits one chunk of rows holds at most. */
export const DEFAULT_MEMORY_BUDGET = 32 * 1024 * 1024;

const F32 = 4;

/** Classes [first, first + classes) of the vocabulary, held in store `store` from its class `storeFirst`. */
export interface VocabSlice {
  readonly first: number;
  readonly classes: number;
  readonly store: number;
  /** The slice's first class counted from its store's first class. */
  readonly inStore: number;
}

/** Classes [first, first + classes) held by one buffer (of the classifier, of its gradient). */
export interface VocabStore {
  readonly first: number;
  readonly classes: number;
}

export interface LinearPlan {
  /** The row passes of the logits [N, V], with one piece per chunk of rows. */
  readonly work: WorkPlan;
  /** Rows per chunk (the last may have fewer). */
  readonly chunkRows: number;
  readonly slices: readonly VocabSlice[];
  /**
   * How a host classifier is uploaded and the f32 classifier gradient is accumulated: one buffer
   * per store. A classifier in a GPUBuffer is read where it lies, whatever the stores.
   */
  readonly stores: readonly VocabStore[];
  /** Bytes of the scratch buffer that holds one chunk's logits, then its gradient. */
  readonly scratchBytes: number;
  /** The budget the chunks were cut to (other scratch, such as d(hidden)'s partial sums, keeps within it too). */
  readonly memoryBudget: number;
}

export type LinearLimits = PlanLimits & { readonly maxComputeWorkgroupsPerDimension?: number };

/**
 * Rows a chunk starts at are multiples of this: per-row arrays (targets, losses, summaries) are
 * bound from the chunk's first row, at an offset the device's storage alignment divides.
 */
function rowStep(alignment: number): number {
  return Math.max(1, alignment / F32);
}

/** The chunks, slices and stores of `problem` on a device of `limits`, within `memoryBudget` bytes of logits. */
export function planLinear(problem: LinearProblem, limits: LinearLimits, memoryBudget = DEFAULT_MEMORY_BUDGET): LinearPlan {
  const { rows, classes, depth } = problem;
  const rowBytes = classes * F32;
  const step = rowStep(limits.minStorageBufferOffsetAlignment);
  // A chunk's logits fit the budget and one binding; a chunk is at least one step of rows.
  const fit = Math.floor(Math.min(memoryBudget, limits.maxStorageBufferBindingSize) / rowBytes);
  if (step * rowBytes > limits.maxStorageBufferBindingSize && rows > fit) {
    throw new RangeError(`the linear head needs ${step} rows of logits (${step * rowBytes} bytes for ${classes} classes) `
      + `in one storage binding, over this device's maxStorageBufferBindingSize (${limits.maxStorageBufferBindingSize})`);
  }
  const chunkRows = rows <= Math.max(fit, step) ? Math.max(rows, 1) : Math.max(step, Math.floor(fit / step) * step);
  const pieces = [];
  for (let first = 0; first < rows; first += chunkRows) pieces.push({ firstRow: first, rows: Math.min(chunkRows, rows - first) });
  if (pieces.length === 0) pieces.push({ firstRow: 0, rows: 0 });

  // Slices: the classifier's rows (in its dtype) and the f32 gradient's rows each within one
  // binding, which a range starting below an aligned offset may overrun by one alignment.
  const sliceElementBytes = Math.max(dtypeBytes(problem.classifierDtype), problem.grads.classifier ? F32 : 0);
  const bindable = limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment;
  // An even count keeps every store of a 16-bit gradient on whole words (read back part by part).
  const fitting = Math.floor(bindable / (depth * sliceElementBytes));
  const sliceClasses = fitting > 1 ? fitting - (fitting % 2) : fitting;
  if (sliceClasses < 1) {
    throw new RangeError(`one classifier row of ${depth} values exceeds this device's maxStorageBufferBindingSize `
      + `(${limits.maxStorageBufferBindingSize})`);
  }
  // Stores: whole slices each, within one buffer.
  const slicesPerStore = Math.max(1, Math.floor(limits.maxBufferSize / (sliceClasses * depth * sliceElementBytes)));
  const storeClasses = Math.min(classes, slicesPerStore * sliceClasses);
  const stores: VocabStore[] = [];
  for (let first = 0; first < classes; first += storeClasses) stores.push({ first, classes: Math.min(storeClasses, classes - first) });
  const slices: VocabSlice[] = [];
  stores.forEach((store, s) => {
    for (let inStore = 0; inStore < store.classes; inStore += sliceClasses) {
      slices.push({ first: store.first + inStore, classes: Math.min(sliceClasses, store.classes - inStore), store: s, inStore });
    }
  });

  const rowWork = planWork(problem.rowProblem, limits);
  // The row kernels' vec4 walk over rows not a multiple of 4 long needs each piece to end on a vec4.
  const unaligned = !rowWork.vec4 && classes >= UNALIGNED_MIN_CLASSES && pieces.every((piece) => (piece.rows * classes) % 4 === 0);
  const work: WorkPlan = { ...rowWork, unaligned, pieces, streamed: false };
  return { work, chunkRows, slices, stores, scratchBytes: Math.max(F32, Math.min(chunkRows, rows) * rowBytes), memoryBudget };
}
