/**
 * The benchmark's problems: seeded logits and class indices for a shape, the same numbers in every
 * run, and the same problem with classes on the last axis for the peers.
 */
import { Random } from '../problems/random.js';
import type { RowMajorProblem } from './peers.js';

export type BenchProblem = ReturnType<typeof makeProblem>;

/** Logits uniform in [-4, 4) and uniform class indices, seeded by the shape (every run the same numbers). */
export function makeProblem(shape: number[]) {
  const random = new Random(shape.reduce((a, b) => a * 31 + b, 7));
  const next = () => random.next();
  const size = shape.reduce((a, b) => a * b, 1);
  const logits = new Float32Array(size);
  for (let i = 0; i < size; i++) logits[i] = 4 * (next() - 0.5) * 2;
  const classes = shape[1]!;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const rows = shape[0]! * inner;
  const targets = Int32Array.from({ length: rows }, () => Math.floor(next() * classes));
  return { logits, targets, rows, classes, inner };
}

/** The same problem with classes on the last axis, as TF.js and jax-js expect. */
export function channelsLast(p: BenchProblem): RowMajorProblem {
  if (p.inner === 1) return p;
  const out = new Float32Array(p.logits.length);
  const samples = p.rows / p.inner;
  for (let n = 0; n < samples; n++) {
    for (let c = 0; c < p.classes; c++) {
      for (let s = 0; s < p.inner; s++) {
        out[(n * p.inner + s) * p.classes + c] = p.logits[(n * p.classes + c) * p.inner + s]!;
      }
    }
  }
  return { rows: p.rows, classes: p.classes, logits: out, targets: p.targets };
}
