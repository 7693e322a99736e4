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
export declare function rooflineOf(impl: string): 'roofline-copy' | 'roofline-read';
export declare function findRow(rows: readonly BenchRow[], shape: readonly number[], impl: string): BenchRow | undefined;
export declare function rooflineMs(rows: readonly BenchRow[], shape: readonly number[], impl: string): number | null;
export declare function ratioToRoofline(rows: readonly BenchRow[], shape: readonly number[], impl: string): number | null;
export declare function speedUp(rows: readonly BenchRow[], shape: readonly number[], impl: string, peer: string): number | null;
export declare function shapesOf(rows: readonly BenchRow[]): number[][];
