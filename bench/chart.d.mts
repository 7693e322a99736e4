import type { BenchRow } from './ratios.mjs';

/** A benchmark row's name, what it is (a floor to compare against, or an implementation) and what it measures. */
export interface BenchEntry {
  readonly impl: string;
  readonly kind: 'floor' | 'implementation';
  readonly about: string;
}
/** The rooflines every ratio is divided by (read for forward, copy for forward + gradient). */
export declare const ROOFLINES: readonly BenchEntry[];
/** The rows a chart shows, each with its colour: floors, then implementations. */
export declare const IMPLS: readonly (BenchEntry & { readonly color: string })[];
export declare function ratioChart(result: { adapter: Record<string, unknown>; rows: readonly BenchRow[] }): string;
