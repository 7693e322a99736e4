/**
 * Property tests (fast-check, seeded): for random shapes, options, target kinds, input kinds and
 * values, including -inf masks and extreme magnitudes, the GPU meets the float64 reference within
 * docs/accuracy.md's tolerances. A failure prints the seed and a shrunk counterexample.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CrossEntropy, crossEntropyReference, type InputKind, type Reduction } from '../../src/index.js';
import { expectMatchesReference } from '../helpers/expect-reference.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();
const SEED = 20261122;
const RUNS = 1000;

const f32 = (min: number, max: number) =>
  fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true });

/**
 * Probabilities, weights and label smoothing are drawn as 0 or at least 1e-6. WGSL lets a GPU flush
 * subnormal f32 values to zero (SwiftShader does), and a product such as w * t below f32's range is
 * 0 in f32 where float64 keeps it; the loss then differs from PyTorch's only where a -inf logit meets
 * such a value (0 * -inf is NaN, 1e-45 * -inf is -inf). README documents this.
 */
const SMALLEST_DRAWN = 1e-6;
const notTiny = (arb: fc.Arbitrary<number>) => arb.map((v) => (v < SMALLEST_DRAWN ? 0 : v));
const probability = notTiny(f32(0, 1));

/** Logit values: mostly moderate, sometimes extreme or masked. */
const logitValue = fc.oneof(
  { weight: 8, arbitrary: f32(-20, 20) },
  { weight: 1, arbitrary: f32(-1e4, 1e4) },
  { weight: 1, arbitrary: fc.constantFrom(-Infinity, 88, -88, 0, 1e4, -1e4) },
);

/** [C], [N, C] or [N, C, d1(, d2)] with small dimensions. */
const shapeArb = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 40 })).map(([c]) => [c]),
  fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 300 })).map(([n, c]) => [n, c]),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 1, max: 4 })).map(([n, c, d1, d2]) => [n, c, d1, d2]),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1500 }), fc.integer({ min: 1, max: 4 }))
    .map(([n, c, d]) => [n, c, d]),
);

interface Problem {
  shape: number[];
  logits: Float32Array;
  classIndex: boolean;
  target: Int32Array | Float32Array;
  input: InputKind;
  reduction: Reduction;
  weight: Float32Array | undefined;
  labelSmoothing: number;
}

function rowsOf(shape: number[]) {
  if (shape.length === 1) return { rows: 1, classes: shape[0]!, rowShape: [] as number[] };
  const [n, c, ...spatial] = shape;
  return { rows: n! * spatial.reduce((a, b) => a * b, 1), classes: c!, rowShape: [n!, ...spatial] };
}

const problemArb: fc.Arbitrary<Problem> = shapeArb.chain((shape) => {
  const size = shape.reduce((a, b) => a * b, 1);
  const { rows, classes } = rowsOf(shape);
  return fc.record({
    shape: fc.constant(shape),
    logits: fc.array(logitValue, { minLength: size, maxLength: size }).map((v) => Float32Array.from(v)),
    classIndex: fc.boolean(),
    classTargets: fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: classes - 1 }) },
      { weight: 1, arbitrary: fc.constant(-100) }), { minLength: rows, maxLength: rows }),
    probTargets: fc.array(probability, { minLength: size, maxLength: size }),
    input: fc.constantFrom<InputKind>('logits', 'logits', 'logProbabilities'),
    reduction: fc.constantFrom<Reduction>('mean', 'sum', 'none'),
    weight: fc.option(fc.array(notTiny(f32(0, 3)), { minLength: classes, maxLength: classes }), { nil: undefined }),
    labelSmoothing: fc.oneof(fc.constant(0), notTiny(f32(0, 1))),
  }).map((r) => ({
    shape: r.shape,
    logits: r.logits,
    classIndex: r.classIndex,
    target: r.classIndex ? Int32Array.from(r.classTargets) : Float32Array.from(r.probTargets),
    input: r.input,
    reduction: r.reduction,
    weight: r.weight && Float32Array.from(r.weight),
    labelSmoothing: r.labelSmoothing,
  }));
});

describe.skipIf(!device)('GPU matches the float64 reference on random problems', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it(`${RUNS} seeded cases (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, async (p) => {
        const logits = { data: p.logits, shape: p.shape };
        const target = { data: p.target, shape: p.classIndex ? rowsOf(p.shape).rowShape : p.shape };
        const options = {
          reduction: p.reduction, input: p.input, labelSmoothing: p.labelSmoothing,
          ...(p.weight ? { weight: p.weight } : {}),
        };
        const reference = crossEntropyReference(logits, target, options);
        const gpu = await ce.forward(logits, target, options);
        expectMatchesReference(gpu, reference, JSON.stringify({ shape: p.shape, ...options, weight: undefined }));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
