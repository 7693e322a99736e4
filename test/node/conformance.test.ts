/**
 * External values: the softmax cross-entropy cases of TensorFlow.js's own tests
 * (test/fixtures/tfjs_ce_cases.json) that map onto PyTorch semantics, run on the GPU and in the
 * float64 reference and compared with TF.js's expected numbers.
 *
 * Mapping: TF.js puts classes on the last axis (reshaped here to [rows, C]); its weights are per
 * example. Per-example weights map onto PyTorch's per-class weights only when each example's
 * one-hot target is a different class and there is no label smoothing, and only for NONE and MEAN
 * (SUM_BY_NONZERO_WEIGHTS divides by a count of weights, which PyTorch never does).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CrossEntropy, compareArrays, crossEntropyReference, describeComparison, TOLERANCES,
  type CrossEntropyOptions, type Reduction, type ReferenceOptions,
} from '../../src/index.js';
import { requireDevice } from '../helpers/webgpu-node.js';

interface TfTensor { shape: number[]; data: number[] }
interface TfCase {
  id: string;
  function: string;
  args: Record<string, TfTensor | number | boolean | string | null>;
  reduction: string | null;
  expected: { data: (number | string)[] };
}

interface Mapped {
  id: string;
  logits: { data: Float32Array; shape: number[] };
  target: { data: Float32Array | Int32Array; shape: number[] };
  options: CrossEntropyOptions & ReferenceOptions;
  expected: number[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/tfjs_ce_cases.json', import.meta.url), 'utf8')) as {
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

function mapCase(c: TfCase): Mapped | string {
  if (c.function === 'tf.losses.softmaxCrossEntropy') return mapSoftmaxCrossEntropy(c);
  if (/categoricalCrossentropy$/i.test(c.function)) return mapLayersCase(c);
  return 'not a softmax cross-entropy';
}

const mapped = fixture.cases.map(mapCase).filter((m): m is Mapped => typeof m !== 'string');
const device = await requireDevice();

describe('TF.js softmax cross-entropy cases', () => {
  it('maps the expected number of cases (so none is dropped silently)', () => {
    // 6 of tf.losses.softmaxCrossEntropy's 8 (2 use weights PyTorch cannot express) and all 6 Keras ones.
    expect(mapped.map((m) => m.id)).toHaveLength(12);
  });

  it.each(mapped)('reference: $id', (m) => {
    const { loss } = crossEntropyReference(m.logits, m.target, m.options);
    const c = compareArrays(loss, m.expected, { atol: 1e-6, rtol: 1e-6 });
    expect(c.ok, describeComparison(c)).toBe(true);
  });

  describe.skipIf(!device)('on the GPU', () => {
    let ce: CrossEntropy;
    beforeAll(async () => {
      ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
    });
    afterAll(() => ce?.destroy());

    it.each(mapped)('$id', async (m) => {
      const { loss } = await ce.forward(m.logits, m.target, m.options);
      const tolerance = typeof loss === 'number' ? TOLERANCES.reducedLoss : TOLERANCES.rowLoss;
      const c = compareArrays(loss, m.expected, tolerance);
      expect(c.ok, describeComparison(c)).toBe(true);
    });
  });
});
