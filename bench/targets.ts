// Prints the performance targets against a run's figures, as the README's table: for each shape of
// at least 1M logits, ours against each target, and beside it the softmax floors measured the same
// way in the same run: the least any one-pass softmax does (plain), and that with ours' exact
// bookkeeping (exact), both without rows, targets or merges. Where the plain floor misses a target
// too, no one-pass softmax reaches it on that adapter; where only the exact one does, none that
// keeps the accuracy of docs/accuracy.md. `npm run bench:summary` prints it, and after it the
// 16-bit inputs' target: each 16-bit suite against the float32 one, shape by shape.
import type { HalfDtype } from '../src/index.js';
import { HALF_DTYPES } from './presets.js';
import { findRow, ratioToRoofline, rooflineOf, shapesOf, timeOverFloat32, type BenchRow } from './ratios.js';

interface Target {
  readonly name: string;
  readonly ours: string;
  readonly floors: readonly string[];
  readonly peer?: string;
  readonly atMost?: number;
  readonly atLeast?: number;
}

/** A figure: its value, and whether it is only a bound (a peer timed once). */
interface Figure {
  readonly value: number;
  readonly bound: boolean;
}

/** Shapes from this many logits on are held to the targets (the [1, 3] round trip has its own). */
const MIN_LOGITS = 1_000_000;
const TINY_SHAPE = [1, 3];
const MAX_TINY_RATIO = 1.5;

/**
 * Each target: what ours is measured by, the floor measured the same way, and the bound. A ratio to
 * a roofline must be at most the bound; a speed-up over a peer (its median over ours) at least it.
 */
const FORWARD = { ours: 'ours-forward', floors: ['floor-softmax-read', 'floor-exact-read'] };
const WITH_GRADIENT = { ours: 'ours-forward-grad', floors: ['floor-softmax-copy', 'floor-exact-copy'] };
const TARGETS: readonly Target[] = [
  { name: 'forward / roofline-read', ...FORWARD, atMost: 1.25 },
  { name: 'forward + gradient / roofline-copy', ...WITH_GRADIENT, atMost: 1.5 },
  { name: 'faster than TF.js, forward', ...FORWARD, peer: 'tfjs-webgpu', atLeast: 20 },
  { name: 'faster than TF.js, + gradient', ...WITH_GRADIENT, peer: 'tfjs-webgpu-grad', atLeast: 20 },
  { name: 'faster than jax-js, forward', ...FORWARD, peer: 'jaxjs-webgpu', atLeast: 5 },
  { name: 'faster than jax-js, + gradient', ...WITH_GRADIENT, peer: 'jaxjs-webgpu-grad', atLeast: 5 },
  { name: 'faster than the CPU loop', ...FORWARD, peer: 'cpu-reference', atLeast: 2 },
];

/**
 * `impl`'s figure for a target: its ratio to the roofline, or the peer's time over its own. A peer
 * too slow to time every round has only its first call: the speed-up is then a lower bound.
 */
function figure(rows: readonly BenchRow[], shape: number[], target: Target, impl: string): Figure | null {
  if (target.peer === undefined) {
    const ratio = ratioToRoofline(rows, shape, impl);
    return ratio === null ? null : { value: ratio, bound: false };
  }
  const ms = findRow(rows, shape, impl)?.median_ms ?? null;
  const peer = findRow(rows, shape, target.peer);
  const peerMs = peer?.median_ms ?? peer?.first_ms ?? null;
  if (ms === null || peerMs === null || peerMs === undefined) return null;
  return { value: peerMs / ms, bound: peer!.median_ms === null };
}

function meets(target: Pick<Target, 'atMost' | 'atLeast'>, { value }: Figure): boolean {
  return target.atMost !== undefined ? value <= target.atMost : value >= target.atLeast!;
}

function cell(target: Pick<Target, 'atMost' | 'atLeast'>, result: Figure | null): string {
  if (result === null) return '—';
  const text = `${result.bound ? '>' : ''}${result.value.toFixed(2)}×`;
  return meets(target, result) ? text : `**${text}**`;
}

/** The Markdown table: one row per target and shape; misses in bold. */
export function targetTable(rows: readonly BenchRow[]): string {
  const lines = ['| target | shape | ours | plain softmax floor | exact softmax floor |', '|---|---|---:|---:|---:|'];
  const large = shapesOf(rows).filter((shape) => shape.reduce((a, b) => a * b, 1) >= MIN_LOGITS);
  for (const target of TARGETS) {
    const bound = target.atMost !== undefined ? `≤ ${target.atMost}×` : `≥ ${target.atLeast}×`;
    for (const shape of large) {
      const ours = figure(rows, shape, target, target.ours);
      if (ours === null) continue;
      const floors = target.floors.map((floor) => cell(target, figure(rows, shape, target, floor)));
      lines.push(`| ${target.name} ${bound} | [${shape.join(', ')}] | ${cell(target, ours)} | ${floors.join(' | ')} |`);
    }
  }
  const tiny = findRow(rows, TINY_SHAPE, 'ours-forward')?.median_ms;
  const empty = findRow(rows, TINY_SHAPE, 'empty-roundtrip')?.median_ms;
  if (tiny && empty) {
    const ratio = { value: tiny / empty, bound: false };
    lines.push(`| round trip / empty submit + readback ≤ ${MAX_TINY_RATIO}× | [${TINY_SHAPE.join(', ')}] | `
      + `${cell({ atMost: MAX_TINY_RATIO }, ratio)} | — | — |`);
  }
  return lines.join('\n');
}

/**
 * The 16-bit inputs' target: ours with float16 or bfloat16 logits takes at most this many times its
 * time with float32 logits, at the same shape in the same run (the rounds interleave them).
 */
const MAX_HALF_OVER_FLOAT32 = 1.1;

/** A ratio with two decimals, or three where two would round it onto the bound and hide which side it is on. */
function ratioAgainst(value: number, bound: number): string {
  return `${value.toFixed(Number(value.toFixed(2)) === bound && value !== bound ? 3 : 2)}×`;
}

/**
 * The Markdown table of the 16-bit target: for each 16-bit dtype, forward and forward + gradient,
 * and each shape timed in both that dtype and float32, ours' 16-bit time over its float32 time;
 * beside it the same for the roofline it is measured against (what reading 2 bytes a value instead
 * of 4 gives by itself on the adapter), and whether the target is met.
 */
export function halfTargetTable(rows: readonly BenchRow[]): string {
  const lines = ['| target | shape | ours | roofline | met |', '|---|---|---:|---:|---|'];
  for (const dtype of HALF_DTYPES as readonly HalfDtype[]) {
    for (const [impl, what] of [['ours-forward', 'forward'], ['ours-forward-grad', 'forward + gradient']] as const) {
      for (const shape of shapesOf(rows, dtype)) {
        const ours = timeOverFloat32(rows, shape, impl, dtype);
        if (ours === null) continue;
        const roofline = timeOverFloat32(rows, shape, rooflineOf(impl), dtype);
        const met = ours <= MAX_HALF_OVER_FLOAT32;
        lines.push(`| ${dtype} ${what} / float32 ≤ ${MAX_HALF_OVER_FLOAT32}× | [${shape.join(', ')}] | `
          + `${met ? '' : '**'}${ratioAgainst(ours, MAX_HALF_OVER_FLOAT32)}${met ? '' : '**'} | ${roofline === null ? '—' : `${roofline.toFixed(2)}×`} | `
          + `${met ? 'yes' : '**no**'} |`);
      }
    }
  }
  return lines.join('\n');
}
