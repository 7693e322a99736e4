// What each benchmark figure is measured against: the runner's table, the SVG chart, the README's
// summary and the demo page's charts all read ratios from here. A row's dtype is that of the
// logits it read; a figure compares rows of one dtype (float32 where none is named), except
// timeOverFloat32, which sets a 16-bit row against its float32 twin.
import type { Dtype } from '../src/index.js';

/** One measured implementation at one shape and dtype (bench/results.json's rows). */
export interface BenchRow {
  /** 'linear' for the linear suite's rows (shape [N, D, V], or [M, K, P] for its matmul pair); absent for the softmax suites'. */
  suite?: 'linear';
  shape: number[];
  impl: string;
  /** The logits' dtype; absent in runs from before 16-bit inputs, which were all float32. */
  dtype?: Dtype;
  median_ms: number | null;
  gbps: number | null;
  rel_error: number | null;
  first_ms?: number;
  /** The linear suite: its matrix products' floating-point operations per second, in billions. */
  gflops?: number | null;
  /** The linear suite: the worst normwise error of the outputs (gradients, products) against float64. */
  grad_rel_error?: number | null;
  /** The linear suite: the most GPU memory held at once during one call (docs/performance.md says what is counted). */
  peak_bytes?: number;
  /** The linear suite: the memoryBudget ours-linear was given (absent: the default). */
  memory_budget?: number;
  runs: number;
  note?: string;
}

/** Which roofline an implementation is measured against: copy for forward + gradient, read otherwise. */
export function rooflineOf(impl: string): 'roofline-copy' | 'roofline-read' {
  return impl.endsWith('-grad') || impl.endsWith('-copy') ? 'roofline-copy' : 'roofline-read';
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** A row's dtype: float32 for rows of runs before 16-bit inputs. */
export function dtypeOf(row: BenchRow): Dtype {
  return row.dtype ?? 'float32';
}

/** The row of one implementation at one shape and dtype, or undefined. */
export function findRow(rows: readonly BenchRow[], shape: readonly number[], impl: string, dtype: Dtype = 'float32'): BenchRow | undefined {
  return rows.find((r) => r.impl === impl && dtypeOf(r) === dtype && sameShape(r.shape, shape));
}

/** The roofline median an implementation is divided by (read when there is no copy), in its dtype, or null. */
export function rooflineMs(rows: readonly BenchRow[], shape: readonly number[], impl: string, dtype: Dtype = 'float32'): number | null {
  return findRow(rows, shape, rooflineOf(impl), dtype)?.median_ms ?? findRow(rows, shape, 'roofline-read', dtype)?.median_ms ?? null;
}

/** An implementation's median over its roofline's median in the same run and dtype (1 is the floor), or null. */
export function ratioToRoofline(rows: readonly BenchRow[], shape: readonly number[], impl: string, dtype: Dtype = 'float32'): number | null {
  const ms = findRow(rows, shape, impl, dtype)?.median_ms ?? null;
  const base = rooflineMs(rows, shape, impl, dtype);
  return ms !== null && base ? ms / base : null;
}

/** How many times faster `impl` is than `peer` at one shape (peer median / impl median), or null. */
export function speedUp(rows: readonly BenchRow[], shape: readonly number[], impl: string, peer: string): number | null {
  const ms = findRow(rows, shape, impl)?.median_ms ?? null;
  const peerMs = findRow(rows, shape, peer)?.median_ms ?? null;
  return ms !== null && peerMs !== null && ms > 0 ? peerMs / ms : null;
}

/**
 * An implementation's median with `dtype` logits over its median with float32 logits at the same
 * shape, in the same run (below 1: the 16-bit input is faster), or null.
 */
export function timeOverFloat32(rows: readonly BenchRow[], shape: readonly number[], impl: string, dtype: Dtype): number | null {
  const ms = findRow(rows, shape, impl, dtype)?.median_ms ?? null;
  const float32Ms = findRow(rows, shape, impl)?.median_ms ?? null;
  return ms !== null && float32Ms ? ms / float32Ms : null;
}

/** The distinct shapes of a run's rows (of one dtype's rows, if given), in order. */
export function shapesOf(rows: readonly BenchRow[], dtype?: Dtype): number[][] {
  const seen = new Map<string, number[]>();
  for (const r of rows) if (dtype === undefined || dtypeOf(r) === dtype) seen.set(JSON.stringify(r.shape), r.shape);
  return [...seen.values()];
}

/** The distinct dtypes of a run's rows, in order. */
export function dtypesOf(rows: readonly BenchRow[]): Dtype[] {
  return [...new Set(rows.map(dtypeOf))];
}
