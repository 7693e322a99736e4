/**
 * The cases of TensorFlow.js's own cross-entropy tests (test/fixtures/tfjs_ce_cases.json) that map
 * onto PyTorch semantics, as the library's inputs and options: softmax cross-entropy (for
 * test/node/conformance.test.ts and the TF.js adapter's browser test) and sigmoid cross-entropy
 * (binary cross-entropy, for the adapter's).
 *
 * Mapping: TF.js puts classes on the last axis (reshaped here to [rows, C]); its weights are per
 * example. Per-example weights map onto PyTorch's per-class weights only when each example's
 * one-hot target is a different class and there is no label smoothing, and only for NONE and MEAN
 * (SUM_BY_NONZERO_WEIGHTS divides by a count of weights, which PyTorch never does). For sigmoid
 * cross-entropy, weights that broadcast over rows are BCEWithLogitsLoss's `weight`; TF.js's MEAN
 * with weights divides by the sum of the weights, which PyTorch never does; label smoothing is a
 * change of the labels (y·(1 − ε) + ε/2), made here on the host.
 */
import { readFileSync } from 'node:fs';
import type { BinaryOptions, CrossEntropyOptions, Reduction, ReferenceOptions } from '../../src/index.js';

export interface TfTensor { shape: number[]; data: number[] }
export interface TfCase {
  /** TF.js's test tolerance for this case (absolute). */
  tfjs_test_tolerance_abs?: number;
  id: string;
  function: string;
  args: Record<string, TfTensor | number | boolean | string | null>;
  reduction: string | null;
  expected: { data: (number | string)[] };
}

export interface Mapped {
  id: string;
  logits: { data: Float32Array; shape: number[] };
  target: { data: Float32Array | Int32Array; shape: number[] };
  options: CrossEntropyOptions & ReferenceOptions;
  expected: number[];
}

export const fixture = JSON.parse(readFileSync(new URL('../fixtures/tfjs_ce_cases.json', import.meta.url), 'utf8')) as {
  cases: TfCase[];
};

/** [..., C] as TF.js lays it out → [rows, C]. */
function asRows(t: TfTensor): number[] {
  const classes = t.shape[t.shape.length - 1]!;
  return [t.data.length / classes, classes];
}

function oneHotClasses(labels: TfTensor): number[] | null {
  const [rows, classes] = asRows(labels);
  const out: number[] = [];
  for (let r = 0; r < rows!; r++) {
    const row = labels.data.slice(r * classes!, (r + 1) * classes!);
    if (row.filter((v) => v === 1).length !== 1 || row.some((v) => v !== 0 && v !== 1)) return null;
    out.push(row.indexOf(1));
  }
  return out;
}

const TF_REDUCTIONS: Record<string, Reduction> = {
  NONE: 'none', SUM: 'sum', MEAN: 'mean', SUM_BY_NONZERO_WEIGHTS: 'mean',
};

function mapSoftmaxCrossEntropy(c: TfCase): Mapped | string {
  const labels = c.args.onehotLabels as TfTensor;
  const logits = c.args.logits as TfTensor;
  const weights = c.args.weights as TfTensor | null;
  const labelSmoothing = c.args.labelSmoothing as number;
  const reduction = TF_REDUCTIONS[c.reduction!]!;
  const shape = asRows(logits);
  const base = { id: c.id, logits: { data: Float32Array.from(logits.data), shape },
    expected: c.expected.data.map(Number) };
  if (weights === null) {
    // Unweighted SUM_BY_NONZERO_WEIGHTS is sum / number of examples: PyTorch's 'mean'.
    return { ...base, target: { data: Float32Array.from(labels.data), shape }, options: { reduction, labelSmoothing } };
  }
  const classes = oneHotClasses(labels);
  if (labelSmoothing !== 0 || c.reduction === 'SUM_BY_NONZERO_WEIGHTS' || weights.data.length !== shape[0]
      || classes === null || new Set(classes).size !== classes.length) {
    return 'per-example weights that do not map onto per-class weights';
  }
  const weight = new Float32Array(shape[1]!).fill(1);
  classes.forEach((y, row) => { weight[y] = weights.data[row]!; });
  return { ...base, target: { data: Int32Array.from(classes), shape: [shape[0]!] }, options: { reduction, weight } };
}

function mapLayersCase(c: TfCase): Mapped | string {
  const output = c.args.output as TfTensor;
  const target = c.args.target as TfTensor;
  const fromLogits = c.args.fromLogits === true;
  const shape = asRows(output);
  if (!fromLogits) {
    // Keras renormalises p / sum(p) and clips to [1e-7, 1 - 1e-7]; equal to log p when rows sum to 1
    // and each p is exactly 0 or 1 or inside the clip range (where a 0 meets a target of 0).
    for (let r = 0; r < shape[0]!; r++) {
      const row = output.data.slice(r * shape[1]!, (r + 1) * shape[1]!);
      if (Math.abs(row.reduce((a, b) => a + b, 0) - 1) > 1e-6) return 'probabilities that do not sum to 1';
    }
  }
  const options: Mapped['options'] = { reduction: 'none', input: fromLogits ? 'logits' : 'probabilities' };
  const expected = c.expected.data.map(Number);
  const logits = { data: Float32Array.from(output.data), shape };
  if (c.function.endsWith('sparseCategoricalCrossentropy')) {
    return { id: c.id, logits, target: { data: Int32Array.from(target.data.map(Math.floor)), shape: [shape[0]!] },
      options, expected };
  }
  return { id: c.id, logits, target: { data: Float32Array.from(target.data), shape }, options, expected };
}

/** A softmax cross-entropy case as the library's inputs, or why it does not map. */
export function mapCase(c: TfCase): Mapped | string {
  if (c.function === 'tf.losses.softmaxCrossEntropy') return mapSoftmaxCrossEntropy(c);
  if (/categoricalCrossentropy$/i.test(c.function)) return mapLayersCase(c);
  return 'not a softmax cross-entropy';
}

/** The softmax cross-entropy cases that map (12: 6 of tf.losses.softmaxCrossEntropy's 8, all 6 Keras ones). */
export const softmaxCases = fixture.cases.map(mapCase).filter((m): m is Mapped => typeof m !== 'string');

/** A sigmoid cross-entropy case as binary cross-entropy's inputs. */
export interface MappedBinary {
  id: string;
  logits: { data: Float32Array; shape: number[] };
  target: { data: Float32Array; shape: number[] };
  options: BinaryOptions;
  /** TF.js's expected values. */
  expected: number[];
  /** Keras's binaryCrossentropy: the expected values are each row's mean of the elementwise loss. */
  rowMean: boolean;
}

function mapSigmoid(c: TfCase): MappedBinary | string {
  const tensors = c.function === 'tf.losses.sigmoidCrossEntropy'
    ? { labels: c.args.multiClassLabels, logits: c.args.logits }
    : c.function.endsWith('binaryCrossentropy') ? { labels: c.args.yTrue, logits: c.args.yPred }
      : { labels: c.args.labels, logits: c.args.logits };
  const labels = tensors.labels as TfTensor;
  const logits = tensors.logits as TfTensor;
  const shape = logits.shape;
  const base = { id: c.id, logits: { data: Float32Array.from(logits.data), shape }, expected: c.expected.data.map(Number) };
  if (c.function.endsWith('sigmoidCrossEntropyWithLogits')) {
    return { ...base, target: { data: Float32Array.from(labels.data), shape }, options: { reduction: 'none' }, rowMean: false };
  }
  if (c.function.endsWith('binaryCrossentropy')) {
    // Keras clips p to [1e-7, 1 - 1e-7]: BCELoss's log p wherever p is inside.
    if (logits.data.some((p) => p < 1e-7 || p > 1 - 1e-7)) return 'probabilities outside Keras\'s clip range';
    return { ...base, target: { data: Float32Array.from(labels.data), shape },
      options: { reduction: 'none', input: 'probabilities' }, rowMean: true };
  }
  const weights = c.args.weights as TfTensor | null;
  const smoothing = c.args.labelSmoothing as number;
  const target = Float32Array.from(labels.data, (y) => y * (1 - smoothing) + 0.5 * smoothing);
  if (weights !== null && (c.reduction === 'MEAN' || weights.shape.length !== 2 || weights.shape[0] !== 1)) {
    return 'weights TF.js divides by, or that do not broadcast over rows';
  }
  const reduction = c.reduction === 'NONE' ? 'none' : c.reduction === 'SUM' ? 'sum' : 'mean';
  return { ...base, target: { data: target, shape }, rowMean: false,
    options: { reduction, ...(weights ? { weight: Float32Array.from(weights.data) } : {}) } };
}

/** The sigmoid cross-entropy cases that map onto binary cross-entropy (see mapSigmoid). */
export const binaryCases = fixture.cases
  .filter((c) => /sigmoid|binaryCrossentropy/i.test(c.function))
  .map(mapSigmoid).filter((m): m is MappedBinary => typeof m !== 'string');
