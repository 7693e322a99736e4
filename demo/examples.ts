/**
 * The single example's state: class names, the values as entered (probabilities or logits) and the
 * true class; the seeds' worked examples as presets; conversions between the two ways of entering.
 */

export type EnteredAs = 'probabilities' | 'logits';

export interface Example {
  readonly classNames: readonly string[];
  readonly enteredAs: EnteredAs;
  readonly values: readonly number[];
  readonly target: number;
}

export interface Preset extends Example {
  readonly id: string;
  readonly title: string;
}

/** Two worked examples, both −log 0.7 = 0.35667494393873245: three classes, then ten digits. */
export const PRESETS: readonly Preset[] = [
  {
    id: 'three-classes', title: 'A, B, C · p = [0.7, 0.2, 0.1]',
    classNames: ['A', 'B', 'C'], enteredAs: 'probabilities', values: [0.7, 0.2, 0.1], target: 0,
  },
  {
    id: 'ten-digits', title: 'Ten digits · true class 3',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], enteredAs: 'probabilities',
    values: [0.1, 0.05, 0.1, 0.7, 0.02, 0.01, 0.01, 0.005, 0.01, 0.005], target: 3,
  },
];

/** The range a logit's slider covers; typed values may go beyond it. */
export const LOGIT_RANGE = { min: -12, max: 12 } as const;

/** softmax(z) in float64, with the max subtracted. */
export function softmax(z: readonly number[]): number[] {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** The probabilities an example stands for: as entered, or the softmax of its logits. */
export function probabilitiesOf(example: Example): number[] {
  return example.enteredAs === 'probabilities' ? [...example.values] : softmax(example.values);
}

/** The same example entered the other way: logits log p (softmax gives p back), or p = softmax(z). */
export function convert(example: Example, enteredAs: EnteredAs): Example {
  if (enteredAs === example.enteredAs) return example;
  const values = enteredAs === 'logits'
    ? example.values.map((p) => (p > 0 ? Math.log(p) : LOGIT_RANGE.min))
    : softmax(example.values);
  return { ...example, enteredAs, values };
}

/**
 * Sets one value. A probability keeps the distribution summing to 1: the other classes share the
 * rest in their current proportions (equally if they are all 0). A logit changes alone.
 */
export function withValue(example: Example, index: number, value: number): Example {
  const values = [...example.values];
  if (example.enteredAs === 'logits') {
    values[index] = value;
    return { ...example, values };
  }
  const p = Math.min(1, Math.max(0, value));
  const others = values.reduce((sum, v, c) => (c === index ? sum : sum + v), 0);
  const rest = 1 - p;
  const count = values.length - 1;
  for (let c = 0; c < values.length; c++) {
    if (c !== index) values[c] = others > 0 ? (values[c]! * rest) / others : rest / count;
  }
  values[index] = p;
  return { ...example, values };
}
