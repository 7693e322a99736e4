/**
 * docs/errors.md: every host-side error, with the argument, position and value in its message, thrown
 * alike by the GPU path (before any GPU work) and by the reference; the instance keeps working after
 * each. GPU-resident class indices are checked on the GPU and reported when the result is read. An
 * instance or a device that is gone fails each call naming the method called.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEntropy, crossEntropyReference, ShaderCompilationError } from '../../src/index.js';
import { requireDefaultLimitsDevice, requireDevice } from '../helpers/webgpu-node.js';

const device = await requireDevice();

const logits23 = { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] };
const target2 = { data: new Int32Array([0, 2]), shape: [2] };

/** A typed array whose ArrayBuffer was transferred away (as postMessage to a worker does). */
function detached<T extends Float32Array | Int32Array>(array: T): T {
  structuredClone(array.buffer, { transfer: [array.buffer] });
  return array;
}

interface BadCall {
  name: string;
  logits: unknown;
  target: unknown;
  options?: unknown;
  error: typeof TypeError | typeof RangeError;
  message: RegExp;
  /** The reference also takes float64 data, so a few kinds are errors on the GPU path only. */
  gpuOnly?: boolean;
}

const BAD_CALLS: BadCall[] = [
  { name: 'logits is not a tensor', logits: [1, 2, 3], target: target2, error: TypeError,
    message: /logits must be an object \{ data, shape \}, got Array/ },
  { name: 'negative dimension', logits: { data: new Float32Array(6), shape: [2, -3] }, target: target2,
    error: RangeError, message: /logits\.shape\[1\] must be a non-negative integer, got -3/ },
  { name: 'fractional dimension', logits: { data: new Float32Array(6), shape: [2, 1.5] }, target: target2,
    error: RangeError, message: /logits\.shape\[1\] must be a non-negative integer, got 1\.5/ },
  { name: 'shape that is not an array', logits: { data: new Float32Array(6), shape: 6 }, target: target2,
    error: TypeError, message: /logits\.shape must be an array of dimensions, got number 6/ },
  { name: 'NaN dimension', logits: { data: new Float32Array(6), shape: [2, NaN] }, target: target2,
    error: RangeError, message: /logits\.shape\[1\] must be a non-negative integer, got NaN/ },
  { name: 'infinite dimension', logits: { data: new Float32Array(6), shape: [Infinity, 3] }, target: target2,
    error: RangeError, message: /logits\.shape\[0\] must be a non-negative integer, got Infinity/ },
  { name: 'dimension as a string', logits: logits23, target: { data: new Int32Array(2), shape: ['2'] },
    error: RangeError, message: /target\.shape\[0\] must be a non-negative integer, got string "2"/ },
  { name: 'shape whose product overflows', logits: { data: new Float32Array(6), shape: [2 ** 30, 2 ** 30, 2 ** 30] },
    target: target2, error: RangeError,
    message: /logits\.shape \[1073741824, 1073741824, 1073741824\] has more elements than can be indexed/ },
  { name: 'more rows than 32-bit row indices', logits: { data: new Float32Array(6), shape: [2 ** 32, 1] },
    target: { data: new Int32Array(6), shape: [2 ** 32] }, error: RangeError,
    message: /logits\.shape \[4294967296, 1\] has 4294967296 rows; the GPU indexes rows with 32 bits/ },
  { name: 'no dimensions', logits: { data: new Float32Array(1), shape: [] }, target: target2,
    error: RangeError, message: /logits\.shape must have at least one dimension/ },
  { name: 'zero classes', logits: { data: new Float32Array(0), shape: [2, 0] }, target: target2,
    error: RangeError, message: /logits\.shape\[1\] \(classes\) must be at least 1, got 0/ },
  { name: 'logits as Float64Array', logits: { data: new Float64Array(6), shape: [2, 3] }, target: target2,
    error: TypeError, message: /logits\.data must be a Float32Array or GPUBuffer, got Float64Array/, gpuOnly: true },
  { name: 'logits as Int32Array', logits: { data: new Int32Array(6), shape: [2, 3] }, target: target2,
    error: TypeError, message: /logits\.data must be a Float32Array.*got Int32Array/ },
  { name: 'logits as Uint8Array', logits: { data: new Uint8Array(6), shape: [2, 3] }, target: target2,
    error: TypeError, message: /logits\.data must be a Float32Array.*got Uint8Array/ },
  { name: 'logits as a DataView', logits: { data: new DataView(new ArrayBuffer(24)), shape: [2, 3] }, target: target2,
    error: TypeError, message: /logits\.data must be a Float32Array.*got DataView/ },
  { name: 'detached logits', logits: { data: detached(new Float32Array(6)), shape: [2, 3] }, target: target2,
    error: TypeError, message: /logits\.data is a detached Float32Array: its ArrayBuffer was transferred/ },
  { name: 'detached class indices', logits: logits23, target: { data: detached(new Int32Array(2)), shape: [2] },
    error: TypeError, message: /target\.data is a detached Int32Array/ },
  { name: 'detached weight', logits: logits23, target: target2, options: { weight: detached(new Float32Array(3)) },
    error: TypeError, message: /options\.weight is a detached Float32Array/ },
  { name: 'logits as a plain array', logits: { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] }, target: target2,
    error: TypeError, message: /logits\.data must be a Float32Array.*got Array/ },
  { name: 'logits length disagrees with the shape', logits: { data: new Float32Array(5), shape: [2, 3] },
    target: target2, error: RangeError, message: /logits\.data has 5 elements but logits\.shape \[2, 3\] needs 6/ },
  { name: 'target shape matches neither form', logits: logits23, target: { data: new Int32Array(3), shape: [3] },
    error: RangeError,
    message: /target\.shape \[3\] does not match logits\.shape \[2, 3\]: expected \[2\] \(class indices\) or \[2, 3\]/ },
  { name: 'class indices as Float32Array', logits: logits23, target: { data: new Float32Array([0, 1]), shape: [2] },
    error: TypeError, message: /target\.data for class indices must be an Int32Array.*got Float32Array/ },
  { name: 'probabilities as Int32Array', logits: logits23, target: { data: new Int32Array(6), shape: [2, 3] },
    error: TypeError, message: /target\.data must be a Float32Array.*got Int32Array/ },
  { name: 'target length disagrees with the shape', logits: logits23, target: { data: new Int32Array(3), shape: [2] },
    error: RangeError, message: /target\.data has 3 elements but target\.shape \[2\] needs 2/ },
  { name: 'class index out of bounds', logits: logits23, target: { data: new Int32Array([0, 12]), shape: [2] },
    error: RangeError, message: /target\[1\] = 12 is out of bounds.*\[0, 2\].*Target 12 is out of bounds\./ },
  { name: 'negative class index that is not ignoreIndex', logits: logits23,
    target: { data: new Int32Array([-1, 0]), shape: [2] }, error: RangeError, message: /target\[0\] = -1 is out of bounds/ },
  { name: 'class index out of bounds, K-dimensional position',
    logits: { data: new Float32Array(2 * 3 * 2 * 2), shape: [2, 3, 2, 2] },
    target: { data: new Int32Array([0, 1, 2, 0, 1, 2, 3, 0]), shape: [2, 2, 2] },
    error: RangeError, message: /target\[1, 1, 0\] = 3 is out of bounds/ },
  { name: 'probability above 1', logits: logits23,
    target: { data: new Float32Array([0, 1, 0, 0, 1.5, 0]), shape: [2, 3] },
    error: RangeError, message: /target\[1, 1\] = 1\.5 is not a probability/ },
  { name: 'NaN probability', logits: logits23,
    target: { data: new Float32Array([0, 1, 0, NaN, 1, 0]), shape: [2, 3] },
    error: RangeError, message: /target\[1, 0\] = NaN is not a probability/ },
  { name: 'infinite probability', logits: logits23,
    target: { data: new Float32Array([0, Infinity, 0, 0, 1, 0]), shape: [2, 3] },
    error: RangeError, message: /target\[0, 1\] = Infinity is not a probability/ },
  { name: "input 'probabilities' of -Infinity", logits: { data: new Float32Array([0.5, 0.5, 0, -Infinity, 1, 0]), shape: [2, 3] },
    target: target2, options: { input: 'probabilities' },
    error: RangeError, message: /logits\[1, 0\] = -Infinity is not a probability/ },
  { name: "input 'probabilities' of NaN", logits: { data: new Float32Array([0.5, NaN, 0, 0, 1, 0]), shape: [2, 3] },
    target: target2, options: { input: 'probabilities' },
    error: RangeError, message: /logits\[0, 1\] = NaN is not a probability/ },
  { name: "input 'probabilities' below 0", logits: { data: new Float32Array([0.5, 0.5, -0.1, 1, 0, 0]), shape: [2, 3] },
    target: target2, options: { input: 'probabilities' },
    error: RangeError, message: /logits\[0, 2\] = -0\.1.* is not a probability/ },
  { name: 'weight of the wrong length', logits: logits23, target: target2,
    options: { weight: new Float32Array(4) }, error: RangeError,
    message: /options\.weight has 4 elements but the logits have 3 classes/ },
  { name: 'weight of the wrong kind', logits: logits23, target: target2,
    options: { weight: [1, 1, 1] }, error: TypeError, message: /options\.weight must be a Float32Array.*got Array/ },
  { name: 'NaN weight', logits: logits23, target: target2, options: { weight: new Float32Array([1, NaN, 1]) },
    error: RangeError, message: /options\.weight\[1\] must be finite, got NaN/ },
  { name: 'infinite weight', logits: logits23, target: target2, options: { weight: new Float32Array([1, 1, -Infinity]) },
    error: RangeError, message: /options\.weight\[2\] must be finite, got -Infinity/ },
  { name: 'labelSmoothing above 1', logits: logits23, target: target2, options: { labelSmoothing: 1.5 },
    error: RangeError, message: /options\.labelSmoothing must be in \[0, 1\], got 1\.5/ },
  { name: 'negative labelSmoothing', logits: logits23, target: target2, options: { labelSmoothing: -0.1 },
    error: RangeError, message: /options\.labelSmoothing must be in \[0, 1\], got -0\.1/ },
  { name: 'NaN labelSmoothing', logits: logits23, target: target2, options: { labelSmoothing: NaN },
    error: RangeError, message: /options\.labelSmoothing must be in \[0, 1\], got NaN/ },
  { name: 'labelSmoothing as a string', logits: logits23, target: target2, options: { labelSmoothing: '0.1' },
    error: TypeError, message: /options\.labelSmoothing must be a number, got string "0\.1"/ },
  { name: 'unknown reduction', logits: logits23, target: target2, options: { reduction: 'avg' },
    error: RangeError, message: /options\.reduction must be one of mean, sum, none, got string "avg"/ },
  { name: 'unknown input kind', logits: logits23, target: target2, options: { input: 'softmax' },
    error: RangeError, message: /options\.input must be one of logits, probabilities, logProbabilities/ },
  { name: 'fractional ignoreIndex', logits: logits23, target: target2, options: { ignoreIndex: 1.5 },
    error: TypeError, message: /options\.ignoreIndex must be a 32-bit integer, got number 1\.5/ },
  { name: 'ignoreIndex with probability targets', logits: logits23,
    target: { data: new Float32Array([1, 0, 0, 0, 1, 0]), shape: [2, 3] }, options: { ignoreIndex: 0 },
    error: RangeError, message: /options\.ignoreIndex 0 cannot apply to probability targets/ },
  { name: 'ignoreIndex as a string', logits: logits23, target: target2, options: { ignoreIndex: '-100' },
    error: TypeError, message: /options\.ignoreIndex must be a 32-bit integer, got string "-100"/ },
  { name: 'ignoreIndex beyond 32 bits', logits: logits23, target: target2, options: { ignoreIndex: 2 ** 31 },
    error: TypeError, message: /options\.ignoreIndex must be a 32-bit integer, got number 2147483648/ },
  { name: 'reduction as a number', logits: logits23, target: target2, options: { reduction: 1 },
    error: RangeError, message: /options\.reduction must be one of mean, sum, none, got number 1/ },
  { name: 'zLoss as a string', logits: logits23, target: target2, options: { zLoss: '0.1' },
    error: TypeError, message: /options\.zLoss must be a finite number, got string "0\.1"/ },
  { name: 'misspelt option weights', logits: logits23, target: target2, options: { weights: new Float32Array(3) },
    error: TypeError, message: /unknown option "weights" \(known: reduction, weight,.*\); did you mean "weight"\?/ },
  { name: 'options null', logits: logits23, target: target2, options: null,
    error: TypeError, message: /options must be an object, got null/ },
  { name: 'misspelt option', logits: logits23, target: target2, options: { label_smoothing: 0.1 },
    error: TypeError, message: /unknown option "label_smoothing"/ },
  { name: 'options not an object', logits: logits23, target: target2, options: 'mean',
    error: TypeError, message: /options must be an object, got string "mean"/ },
  { name: 'zLoss with probabilities as input', logits: { data: new Float32Array(6).fill(0.5), shape: [2, 3] },
    target: target2, options: { input: 'probabilities', zLoss: 1e-4 },
    error: RangeError, message: /options\.zLoss applies to input 'logits' only, got input 'probabilities'/ },
  { name: 'negative softcap', logits: logits23, target: target2, options: { softcap: -1 },
    error: RangeError, message: /options\.softcap must be a positive finite number, got number -1/ },
  { name: 'infinite zLoss', logits: logits23, target: target2, options: { zLoss: Infinity },
    error: RangeError, message: /options\.zLoss must be a finite number, got number Infinity/ },
  { name: 'grad that is not a boolean', logits: logits23, target: target2, options: { grad: 1 },
    error: TypeError, message: /options\.grad must be a boolean, got number 1/ },
  { name: 'gradInPlace that is not a boolean', logits: logits23, target: target2, options: { gradInPlace: 'yes' },
    error: TypeError, message: /options\.gradInPlace must be a boolean, got string "yes"/, gpuOnly: true },
  { name: 'gradInPlace without grad', logits: logits23, target: target2, options: { gradInPlace: true },
    error: RangeError, message: /options\.gradInPlace needs options\.grad: true/, gpuOnly: true },
  { name: "gradOutput without reduction 'none'", logits: logits23, target: target2,
    options: { grad: true, gradOutput: new Float32Array(2) },
    error: RangeError, message: /options\.gradOutput applies to reduction 'none' only, got reduction 'mean'/ },
  { name: 'gradOutput of the wrong length', logits: logits23, target: target2,
    options: { grad: true, reduction: 'none', gradOutput: new Float32Array(3) },
    error: RangeError, message: /options\.gradOutput has 3 elements but the loss has shape \[2\] \(2 elements\)/ },
];

describe('the reference rejects bad input', () => {
  it.each(BAD_CALLS.filter((c) => !c.gpuOnly))('$name', ({ logits, target, options, error, message }) => {
    const call = () => crossEntropyReference(logits as never, target as never, options as never);
    expect(call).toThrow(error);
    expect(call).toThrow(message);
  });
});

describe.skipIf(!device)('forward rejects bad input and keeps working', () => {
  let ce: CrossEntropy;
  beforeAll(async () => {
    ce = await CrossEntropy.create({ device: device!, poisonOutputs: true });
  });
  afterAll(() => ce?.destroy());

  async function expectStillWorks(): Promise<void> {
    const { loss } = await ce.forward(logits23, target2, { reduction: 'sum' });
    const expected = crossEntropyReference(logits23, target2, { reduction: 'sum' }).loss as number;
    expect(Math.abs(loss - expected) / expected).toBeLessThan(1e-6);
  }

  it.each(BAD_CALLS)('$name', async ({ logits, target, options, error, message }) => {
    const call = ce.forward(logits as never, target as never, options as never);
    await expect(call).rejects.toThrow(error);
    await expect(ce.forward(logits as never, target as never, options as never)).rejects.toThrow(message);
    await expectStillWorks();
  });

  it('checks GPU-resident class indices on the GPU: count, first position and value', async () => {
    const N = 300;
    const C = 5;
    const classes = Int32Array.from({ length: N }, (_, i) => i % C);
    classes[123] = 12;
    classes[200] = -7;
    const buffer = device!.createBuffer({ size: classes.byteLength, usage: 0x80 | 0x8 /* STORAGE | COPY_DST */ });
    device!.queue.writeBuffer(buffer, 0, classes);
    try {
      const logits = { data: new Float32Array(N * C), shape: [N, C] };
      const call = ce.forward(logits, { data: buffer, shape: [N] });
      await expect(call).rejects.toThrow(RangeError);
      await expect(ce.forward(logits, { data: buffer, shape: [N] }))
        .rejects.toThrow(/target has 2 class indices out of bounds; the first is target\[123\] = 12/);
      await expectStillWorks();
    } finally {
      buffer.destroy();
    }
  });

  it('rejects a GPUBuffer smaller than its shape needs', async () => {
    const buffer = device!.createBuffer({ size: 16, usage: 0x80 | 0x8 });
    try {
      await expect(ce.forward({ data: buffer, shape: [2, 3] }, target2))
        .rejects.toThrow(/logits\.data is a GPUBuffer of 16 bytes but logits\.shape \[2, 3\] needs 24/);
      await expectStillWorks();
    } finally {
      buffer.destroy();
    }
  });

  it('rejects gradInPlace on a GPUBuffer forward() cannot read back', async () => {
    const buffer = device!.createBuffer({ size: 24, usage: 0x80 | 0x8 });
    try {
      await expect(ce.forward({ data: buffer, shape: [2, 3] }, target2, { grad: true, gradInPlace: true }))
        .rejects.toThrow(/logits\.data needs COPY_SRC usage/);
      await expectStillWorks();
    } finally {
      buffer.destroy();
    }
  });

  it("names the result's read and the caller's argument when forwardGpu's in-place gradient cannot be read back", async () => {
    const buffer = device!.createBuffer({ label: 'my-logits', size: 24, usage: 0x80 | 0x8 });
    try {
      device!.queue.writeBuffer(buffer, 0, logits23.data);
      const run = await ce.forwardGpu({ data: buffer, shape: [2, 3] }, target2, { grad: true, gradInPlace: true });
      await expect(run.read()).rejects.toThrow(
        /^CrossEntropy\.forwardGpu result read: WebGPU validation error on Buffer "my-logits" \(the caller's logits\.data\): /);
      run.destroy();
      await expectStillWorks();
    } finally {
      buffer.destroy();
    }
  });

  it('rejects use after destroy(), naming the method called', async () => {
    const other = await CrossEntropy.create({ device: device! });
    other.destroy();
    const destroyed = (method: string) => new Error(`CrossEntropy.${method}: this instance was destroyed; create a new one`);
    await expect(other.forward(logits23, target2)).rejects.toThrow(destroyed('forward'));
    await expect(other.forwardGpu(logits23, target2)).rejects.toThrow(destroyed('forwardGpu'));
    await expect(other.binary(logits23, { data: new Float32Array(6), shape: [2, 3] })).rejects.toThrow(destroyed('binary'));
    await expect(other.rowStatistics(logits23, target2)).rejects.toThrow(destroyed('rowStatistics'));
    await expectStillWorks();
  });

  it('names forward, not the forwardGpu it runs on, in its WebGPU errors', async () => {
    // A buffer of another device: WebGPU's validation fails the call.
    const foreign = (await requireDefaultLimitsDevice())!;
    const buffer = foreign.createBuffer({ size: 24, usage: 0x80 | 0x8 | 0x4 });
    try {
      await expect(ce.forward({ data: buffer, shape: [2, 3] }, target2))
        .rejects.toThrow(/^CrossEntropy\.forward: WebGPU validation error/);
      await expect(ce.forwardGpu({ data: buffer, shape: [2, 3] }, target2))
        .rejects.toThrow(/^CrossEntropy\.forwardGpu: WebGPU validation error/);
      await expectStillWorks();
    } finally {
      buffer.destroy();
      foreign.destroy();
    }
  });
});

describe.skipIf(!device)('CrossEntropy.create on a device that is gone', () => {
  const lostMessage = new RegExp('^CrossEntropy\\.create: the device is lost \\(destroyed: .*\\): it was destroyed, '
    + 'or its GPU was reset or removed; pass a live GPUDevice$');

  it('rejects a device destroyed before, and a live device still works after', async () => {
    const gone = (await requireDefaultLimitsDevice())!;
    gone.destroy();
    await gone.lost;
    await expect(CrossEntropy.create({ device: gone })).rejects.toThrow(lostMessage);
    const ce = await CrossEntropy.create({ device: device! });
    const { loss } = await ce.forward(logits23, target2);
    expect(loss).toBeCloseTo(crossEntropyReference(logits23, target2).loss as number, 6);
    ce.destroy();
  });

  it('rejects a device destroyed just before the call', async () => {
    const gone = (await requireDefaultLimitsDevice())!;
    gone.destroy();
    await expect(CrossEntropy.create({ device: gone })).rejects.toThrow(lostMessage);
  });

  it('fails each call of an instance whose device was destroyed, naming the method', async () => {
    const own = (await requireDefaultLimitsDevice())!;
    const ce = await CrossEntropy.create({ device: own });
    own.destroy();
    await own.lost;
    const lost = (method: string) => new RegExp(`^CrossEntropy\\.${method}: the GPU device was lost \\(destroyed: `);
    await expect(ce.forward(logits23, target2)).rejects.toThrow(lost('forward'));
    await expect(ce.forwardGpu(logits23, target2)).rejects.toThrow(lost('forwardGpu'));
    await expect(ce.rowStatistics(logits23, target2)).rejects.toThrow(lost('rowStatistics'));
    ce.destroy();
  });
});

describe.skipIf(!device)('CrossEntropy made wrongly from plain JavaScript', () => {
  it('rejects create(device) without the braces, saying how to pass it', async () => {
    await expect(CrossEntropy.create(device as never)).rejects.toThrow(
      /^CrossEntropy\.create: pass the device inside the options, as create\(\{ device \}\), not as create\(device\)$/);
  });

  it('rejects new CrossEntropy(), which would make an instance without kernels', () => {
    const Constructor = CrossEntropy as unknown as new (...args: unknown[]) => CrossEntropy;
    expect(() => new Constructor(device)).toThrow(/^CrossEntropy: use await CrossEntropy\.create\(\) or create\(\{ device \}\), not new$/);
  });
});

describe('ShaderCompilationError', () => {
  it('names the file and line of each error in a program made of several files', () => {
    const files = [{ name: 'row-common', code: 'line 1\nline 2\nline 3' }, { name: 'row-stats', code: 'line 1\nline 2' }];
    const message = (lineNum: number) => ({ type: 'error', lineNum, linePos: 7, message: 'unresolved identifier' });
    const error = new ShaderCompilationError(files, [message(2), message(5)] as unknown as GPUCompilationMessage[]);
    expect(error.message).toMatch(/WGSL compilation of row-stats\.wgsl failed/);
    expect(error.message).toMatch(/row-common\.wgsl:2:7: unresolved identifier/);
    expect(error.message).toMatch(/row-stats\.wgsl:2:7: unresolved identifier/);
  });
});
