// The linear suite's figures, for the runner's output and `npm run bench:summary`: a Markdown table
// of every candidate at each shape and dtype (medians, ratios, GFLOPS, errors, peak memory), and
// the suite's targets with pass / fail, as bench/targets.ts sets the softmax suites' targets.
import type { Dtype } from '../src/index.js';
import { dtypeOf, type BenchRow } from './ratios.js';

/** The linear suite's rows of a run (its `suite` field), and the others. */
export function linearRows(rows: readonly BenchRow[]): BenchRow[] {
  return rows.filter((row) => row.suite === 'linear');
}

export function softmaxRows(rows: readonly BenchRow[]): BenchRow[] {
  return rows.filter((row) => row.suite !== 'linear');
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function find(rows: readonly BenchRow[], shape: readonly number[], impl: string, dtype: Dtype): BenchRow | undefined {
  return rows.find((r) => r.impl === impl && dtypeOf(r) === dtype && sameShape(r.shape, shape));
}

/** Shape and dtype groups in order of appearance. */
function groups(rows: readonly BenchRow[]): { shape: number[]; dtype: Dtype }[] {
  const seen = new Map<string, { shape: number[]; dtype: Dtype }>();
  for (const r of rows) seen.set(JSON.stringify([r.shape, dtypeOf(r)]), { shape: r.shape, dtype: dtypeOf(r) });
  return [...seen.values()];
}

const isPair = (impl: string) => impl.endsWith('-matmul');

function number(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined) return '—';
  return value !== 0 && Math.abs(value) < 10 ** -digits ? value.toExponential(1) : value.toFixed(digits);
}

function ratio(value: number | null, bound = false): string {
  return value === null ? '—' : `${bound ? '>' : ''}${value.toFixed(2)}×`;
}

/** A ratio with two decimals, or three where two would round it onto its target and hide which side it is on. */
function ratioAgainst(value: number, target: number): string {
  return `${value.toFixed(Number(value.toFixed(2)) === target && value !== target ? 3 : 2)}×`;
}

/** A median over another implementation's median at the same shape and dtype, or null. */
function over(rows: readonly BenchRow[], row: BenchRow, impl: string): number | null {
  const base = find(rows, row.shape, impl, dtypeOf(row))?.median_ms;
  return row.median_ms !== null && base ? row.median_ms / base : null;
}

/**
 * The Markdown table of the suite: per shape [N, D, V] and dtype, each candidate's median (ms), its
 * time over the matmul floor's and over the materialised path's, GFLOPS of its products, the
 * relative error of what a call returns (the loss; the floor's and the pair's one element) and of
 * its outputs, and its peak memory; then the GFLOPS pair.
 */
export function linearTable(rows: readonly BenchRow[]): string {
  const lines = ['| shape [N, D, V] | dtype | implementation | median ms | × matmul-floor | × ours-materialised | GFLOPS | '
    + 'rel error | outputs rel error | peak MiB |', '|---|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  const pair = ['| shape [M, K, P] | implementation | median ms | GFLOPS | rel error | outputs rel error |',
    '|---|---|---:|---:|---:|---:|'];
  for (const { shape, dtype } of groups(rows)) {
    for (const row of rows.filter((r) => sameShape(r.shape, shape) && dtypeOf(r) === dtype)) {
      const ms = row.median_ms === null ? (row.first_ms ? `(${number(row.first_ms, 0)} once)` : `n/a: ${row.note ?? ''}`)
        : `${number(row.median_ms, 0)}${row.runs === 1 ? ' (1 round)' : ''}`;
      if (isPair(row.impl)) {
        pair.push(`| [${shape.join(', ')}] | ${row.impl} | ${ms} | ${number(row.gflops, 2)} | ${number(row.rel_error, 1)} | `
          + `${number(row.grad_rel_error, 1)} |`);
        continue;
      }
      lines.push(`| [${shape.join(', ')}] | ${dtype} | ${row.impl} | ${ms} | ${ratio(over(rows, row, 'matmul-floor'))} | `
        + `${ratio(over(rows, row, 'ours-materialised'))} | ${number(row.gflops, 2)} | ${number(row.rel_error, 1)} | `
        + `${number(row.grad_rel_error, 1)} | ${row.peak_bytes === undefined ? '—' : (row.peak_bytes / 2 ** 20).toFixed(1)} |`);
    }
  }
  return [...lines, ...(pair.length > 2 ? ['', ...pair] : [])].join('\n');
}

/** The suite's targets. */
const MAX_OVER_FLOOR = 1.15;
const MAX_OVER_MATERIALISED = 1;
const MIN_MATMUL_SPEEDUP = 5;
const MIN_TFJS_SPEEDUP = 5;
const MAX_MEMORY_FRACTION = 0.1;
/** The vocabulary at which the memory target is held (at the shapes where ours is given a memoryBudget). */
const MEMORY_TARGET_V = 50_257;

interface TargetLine {
  readonly name: string;
  readonly where: string;
  readonly value: number;
  readonly text: string;
  readonly met: boolean;
}

/** One line per target and shape (and dtype) where both figures were measured. */
export function linearTargets(rows: readonly BenchRow[]): TargetLine[] {
  const lines: TargetLine[] = [];
  const push = (name: string, where: string, value: number, met: boolean, text = ratio(value)) => {
    lines.push({ name, where, value, met, text });
  };
  for (const { shape, dtype } of groups(rows)) {
    const where = `[${shape.join(', ')}] ${dtype}`;
    const ours = find(rows, shape, 'ours-linear', dtype);
    if (ours?.median_ms) {
      const floor = over(rows, ours, 'matmul-floor');
      if (floor !== null) {
        push(`ours-linear / matmul-floor ≤ ${MAX_OVER_FLOOR}×`, where, floor, floor <= MAX_OVER_FLOOR, ratioAgainst(floor, MAX_OVER_FLOOR));
      }
      const materialised = over(rows, ours, 'ours-materialised');
      if (materialised !== null) {
        push(`ours-linear / ours-materialised ≤ ${MAX_OVER_MATERIALISED}×`, where, materialised,
          materialised <= MAX_OVER_MATERIALISED, ratioAgainst(materialised, MAX_OVER_MATERIALISED));
      }
      const tfjs = find(rows, shape, 'tfjs-linear', dtype);
      const tfjsMs = tfjs?.median_ms ?? tfjs?.first_ms;
      if (tfjs && tfjsMs) {
        const speedup = tfjsMs / ours.median_ms;
        push(`faster than the TF.js step ≥ ${MIN_TFJS_SPEEDUP}×`, where, speedup, speedup >= MIN_TFJS_SPEEDUP,
          ratio(speedup, tfjs.median_ms === null));
      }
    }
    const peak = ours?.peak_bytes;
    const materialisedPeak = find(rows, shape, 'ours-materialised', dtype)?.peak_bytes;
    // Held where ours was given a memoryBudget: at fewer rows than a chunk's 64, ours' chunk is all the logits.
    if (shape[2] === MEMORY_TARGET_V && ours?.memory_budget !== undefined && peak !== undefined && materialisedPeak) {
      const fraction = peak / materialisedPeak;
      push(`peak memory, ours-linear / ours-materialised ≤ 1/${1 / MAX_MEMORY_FRACTION} (memoryBudget `
        + `${(ours!.memory_budget! / 2 ** 20).toFixed(0)} MiB)`, where, fraction, fraction <= MAX_MEMORY_FRACTION,
        `${fraction.toFixed(3)} (${(peak / 2 ** 20).toFixed(1)} / ${(materialisedPeak / 2 ** 20).toFixed(1)} MiB)`);
    }
    const oursMatmul = find(rows, shape, 'ours-matmul', dtype)?.gflops;
    const tfjsMatmul = find(rows, shape, 'tfjs-matmul', dtype)?.gflops;
    if (oursMatmul && tfjsMatmul) {
      const speedup = oursMatmul / tfjsMatmul;
      push(`our matmul GFLOPS / tf.matMul's ≥ ${MIN_MATMUL_SPEEDUP}×`, `[${shape.join(', ')}]`, speedup,
        speedup >= MIN_MATMUL_SPEEDUP);
    }
  }
  return lines;
}

/** The targets as a Markdown table; misses in bold. */
export function linearTargetTable(rows: readonly BenchRow[]): string {
  const lines = ['| target | shape | measured | met |', '|---|---|---:|---|'];
  for (const t of linearTargets(rows)) {
    lines.push(`| ${t.name} | ${t.where} | ${t.met ? t.text : `**${t.text}**`} | ${t.met ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}
