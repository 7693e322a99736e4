// What each benchmark figure is measured against: the runner's table, the SVG chart, the README's
// summary and the demo page's charts all read ratios from here.

/** One measured implementation at one shape (bench/results.json's rows). */
export interface BenchRow {
  shape: number[];
  impl: string;
  median_ms: number | null;
  gbps: number | null;
  rel_error: number | null;
  first_ms?: number;
  runs: number;
  note?: string;
}

/** Which roofline an implementation is measured against: copy for forward + gradient, read otherwise. */
export function rooflineOf(impl: string): 'roofline-copy' | 'roofline-read' {
  return impl.endsWith('-grad') || impl.endsWith('-copy') ? 'roofline-copy' : 'roofline-read';
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The row of one implementation at one shape, or undefined. */
export function findRow(rows: readonly BenchRow[], shape: readonly number[], impl: string): BenchRow | undefined {
  return rows.find((r) => r.impl === impl && sameShape(r.shape, shape));
}

/** The roofline median an implementation is divided by (read when there is no copy), or null. */
export function rooflineMs(rows: readonly BenchRow[], shape: readonly number[], impl: string): number | null {
  return findRow(rows, shape, rooflineOf(impl))?.median_ms ?? findRow(rows, shape, 'roofline-read')?.median_ms ?? null;
}

/** An implementation's median over its roofline's median in the same run (1 is the floor), or null. */
export function ratioToRoofline(rows: readonly BenchRow[], shape: readonly number[], impl: string): number | null {
  const ms = findRow(rows, shape, impl)?.median_ms ?? null;
  const base = rooflineMs(rows, shape, impl);
  return ms !== null && base ? ms / base : null;
}

/** How many times faster `impl` is than `peer` at one shape (peer median / impl median), or null. */
export function speedUp(rows: readonly BenchRow[], shape: readonly number[], impl: string, peer: string): number | null {
  const ms = findRow(rows, shape, impl)?.median_ms ?? null;
  const peerMs = findRow(rows, shape, peer)?.median_ms ?? null;
  return ms !== null && peerMs !== null && ms > 0 ? peerMs / ms : null;
}

/** The distinct shapes of a run's rows, in order. */
export function shapesOf(rows: readonly BenchRow[]): number[][] {
  const seen = new Map<string, number[]>();
  for (const r of rows) seen.set(JSON.stringify(r.shape), r.shape);
  return [...seen.values()];
}
