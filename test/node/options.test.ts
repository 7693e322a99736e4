/**
 * Options from plain JavaScript: every public function that takes an options object rejects each
 * option it does not take, before any GPU work, with a TypeError naming the function and the option
 * and, where another function takes it, that function; and accepts each option it does take.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyReference, CrossEntropy, crossEntropyReference, lossFromRowStatistics, type RowStatistics,
} from '../../src/index.js';
import { OPTIONS_OF, type OptionsTaker } from '../../src/option-names.js';
import { linearCrossEntropyReference } from '../../src/linear-reference.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

const logits = { data: new Float32Array([2, 1, 0.1, 0.5, 2.5, 0.3]), shape: [2, 3] };
const target = { data: new Int32Array([0, 1]), shape: [2] };
/** Hidden states [2, 2] and a classifier [3, 2]: the linear head's inputs for the same targets. */
const hidden = { data: new Float32Array([1, 0, 0.5, 2]), shape: [2, 2] };
const classifier = { data: new Float32Array([1, 0, 0, 1, 1, 1]), shape: [3, 2] };
const labels = { data: new Float32Array([1, 0, 0, 0, 1, 1]), shape: [2, 3] };
const stats: RowStatistics = {
  rows: 1, classes: 2, max: new Float64Array([1]), sumExp: new Float64Array([1.5]),
  distanceSum: new Float64Array([1]), weightSum: new Float64Array([2]), targetLogit: new Float64Array([1]),
  targetWeight: new Float64Array([1]), target: new Uint8Array([0]),
};

/** Every option name some function takes. */
const ALL_NAMES = [...new Set(Object.values(OPTIONS_OF).flat())];

/** Calls a function the way plain JavaScript would: any options object at all. */
type Call = (options: unknown) => unknown;

/** The functions that run on the host; the GPU ones are added once there is an instance. */
const HOST_CALLS: [OptionsTaker, Call][] = [
  ['crossEntropyReference', (options) => crossEntropyReference(logits, target, options as never)],
  ['binaryCrossEntropyReference', (options) => binaryCrossEntropyReference(logits, labels, options as never)],
  ['lossFromRowStatistics', (options) => lossFromRowStatistics(stats, options as never)],
  ['linearCrossEntropyReference', (options) => linearCrossEntropyReference(hidden, classifier, target, options as never)],
];

function gpuCalls(ce: CrossEntropy): [OptionsTaker, Call][] {
  return [
    ['CrossEntropy.create', (options) => CrossEntropy.create(options as never).then((other) => other.destroy())],
    ['CrossEntropy.forward', (options) => ce.forward(logits, target, options as never)],
    ['CrossEntropy.forwardGpu', (options) => ce.forwardGpu(logits, target, options as never).then((run) => run.destroy())],
    ['CrossEntropy.binary', (options) => ce.binary(logits, labels, options as never)],
    ['CrossEntropy.rowStatistics', (options) => ce.rowStatistics(logits, target, options as never)],
    ['CrossEntropy.linear', (options) => ce.linear(hidden, classifier, target, options as never)],
    ['CrossEntropy.linearGpu', (options) => ce.linearGpu(hidden, classifier, target, options as never)
      .then((run) => run.destroy())],
  ];
}

/** What `call` threw or rejected with, or undefined if it completed. */
async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** The message a function gives for `name`, which it does not take. */
function expectedMessage(method: OptionsTaker, name: string): string {
  const takers = (Object.keys(OPTIONS_OF) as OptionsTaker[])
    .filter((other) => other !== method && (OPTIONS_OF[other] as readonly string[]).includes(name));
  expect(takers.length, `some function takes ${name}`).toBeGreaterThan(0);
  return `${method}: unknown option "${name}" (known: ${OPTIONS_OF[method].join(', ')}); "${name}" is an option of `
    + `${takers.join(', ')}`;
}

async function expectRejectsForeignOptions(method: OptionsTaker, call: Call): Promise<void> {
  const foreign = ALL_NAMES.filter((name) => !(OPTIONS_OF[method] as readonly string[]).includes(name));
  expect(foreign.length).toBeGreaterThan(0);
  for (const name of foreign) {
    // It has a message of its own, which says why (tested below).
    if (method === 'CrossEntropy.rowStatistics' && name === 'labelSmoothing') continue;
    // A value the owner would accept: the name alone must be the reason.
    const error = await failureOf(() => call({ [name]: undefined }));
    expect(error, `${method} with ${name}`).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(expectedMessage(method, name));
  }
}

async function expectAcceptsOwnOptions(method: OptionsTaker, call: Call): Promise<void> {
  const own = Object.fromEntries(OPTIONS_OF[method].map((name) => [name, undefined]));
  expect(await failureOf(() => call(own)), `${method} with ${Object.keys(own).join(', ')}`).toBeUndefined();
}

describe('host functions reject options they do not take', () => {
  it.each(HOST_CALLS)('%s', async (method, call) => {
    await expectRejectsForeignOptions(method, call);
    await expectAcceptsOwnOptions(method, call);
  });

  it('names a misspelt option and what it may have meant', () => {
    expect(() => crossEntropyReference(logits, target, { label_smoothing: 0.1 } as never)).toThrow(new TypeError(
      'crossEntropyReference: unknown option "label_smoothing" (known: reduction, weight, ignoreIndex, labelSmoothing, '
      + 'input, zLoss, softcap, grad, gradOutput, gradDtype); did you mean "labelSmoothing"?'));
    expect(() => lossFromRowStatistics(stats, { reductions: 'sum' } as never))
      .toThrow(/^lossFromRowStatistics: unknown option "reductions" \(known: .*\); did you mean "reduction"\?$/);
    expect(() => binaryCrossEntropyReference(logits, labels, { frobnicate: 1 } as never))
      .toThrow(/^binaryCrossEntropyReference: unknown option "frobnicate" \(known: reduction, input, weight, posWeight, grad, gradOutput, gradDtype\)$/);
  });

  it('names the function when the options are not an object', () => {
    expect(() => crossEntropyReference(logits, target, 'sum' as never))
      .toThrow(new TypeError('crossEntropyReference: options must be an object, got string "sum"'));
    expect(() => lossFromRowStatistics(stats, null as never))
      .toThrow(new TypeError('lossFromRowStatistics: options must be an object, got null'));
  });

  it('the table of options covers every function that takes them', () => {
    expect(Object.keys(OPTIONS_OF).sort()).toEqual([...HOST_CALLS.map(([m]) => m),
      'CrossEntropy.binary', 'CrossEntropy.create', 'CrossEntropy.forward', 'CrossEntropy.forwardGpu',
      'CrossEntropy.rowStatistics', 'CrossEntropy.linear', 'CrossEntropy.linearGpu'].sort());
  });
});

describe.skipIf(!device)('CrossEntropy methods reject options they do not take, before any GPU work', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  it('forward rejects forwardGpu\'s encoder instead of encoding into it and reading nothing', async () => {
    const encoder = device!.createCommandEncoder();
    const held = ce.gpuMemory();
    await expect(ce.forward(logits, target, { encoder } as never)).rejects.toThrow(new TypeError(
      'CrossEntropy.forward: unknown option "encoder" (known: reduction, weight, ignoreIndex, labelSmoothing, input, '
      + 'zLoss, softcap, grad, gradOutput, gradInPlace, gradDtype); "encoder" is an option of CrossEntropy.forwardGpu, '
      + 'CrossEntropy.linearGpu'));
    expect(ce.gpuMemory()).toEqual(held);
    encoder.finish();
  });

  it('each method, for each option of another', async () => {
    // CrossEntropy.create rejects before requesting anything; the accepted case is below.
    for (const [method, call] of gpuCalls(ce)) await expectRejectsForeignOptions(method, call);
  });

  it('each method takes each of its own options', async () => {
    for (const [method, call] of gpuCalls(ce)) {
      if (method === 'CrossEntropy.create') {
        // Without a device it would request one: give it the test's, with the other options unset.
        await expectAcceptsOwnOptions(method, (options) => call({ ...(options as object), device: device! }));
      } else {
        await expectAcceptsOwnOptions(method, call);
      }
    }
  });

  it('rowStatistics points labelSmoothing to lossFromRowStatistics', async () => {
    await expect(ce.rowStatistics(logits, target, { labelSmoothing: 0.1 } as never)).rejects.toThrow(new TypeError(
      'CrossEntropy.rowStatistics: options.labelSmoothing does not change the statistics; pass it to '
      + 'lossFromRowStatistics'));
  });
});
