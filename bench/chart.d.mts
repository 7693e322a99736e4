import type { BenchRow } from './ratios.mjs';

/** The implementations a chart shows, each with its colour. */
export declare const IMPLS: readonly (readonly [impl: string, color: string])[];
export declare function ratioChart(result: { adapter: Record<string, unknown>; rows: readonly BenchRow[] }): string;
