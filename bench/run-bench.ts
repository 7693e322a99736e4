/**
 * The benchmark (docs/performance.md), as a function both pages call: bench/index.html (driven by
 * `npm run bench`) and the demo page's benchmark view. For each shape, every implementation is
 * prepared with its inputs already on the GPU, warmed up, then timed round by round, interleaved,
 * from the call to the loss read back on the host. Each implementation's loss is checked against
 * the float64 reference. At a shape that 16-bit suites time too, their candidates (ours and the
 * 16-bit rooflines) take their turns in the same rounds as the float32 ones. The linear suite
 * (bench/linear.ts), where the config has one, runs after them on the same device.
 */
import { BufferUsage } from '../src/gpu/constants.js';
import { afterErrorScopes } from '../src/gpu/error-scopes.js';
import { CrossEntropy, crossEntropyReference, decodeHalf, encodeHalf, type Dtype, type HalfDtype } from '../src/index.js';
import { runLinearSuite } from './linear.js';
import { initJaxjs, initTfjs, prepareJaxjs, prepareTfjs, type Prepared } from './peers.js';
import { HALF_DTYPES, type BenchConfig } from './presets.js';
import { channelsLast, makeProblem, type BenchProblem } from './problem.js';
import type { BenchRow } from './ratios.js';
import { Roofline } from './roofline.js';
import { failure, median, timeCandidates, type TimedCandidate, type Timings } from './timing.js';

export type { BenchConfig } from './presets.js';
export type { BenchRow } from './ratios.js';

/** What a run found: the adapter it ran on, one row per implementation and shape, uncaught GPU errors. */
export interface BenchResult {
  readonly adapter: Record<string, unknown>;
  readonly rows: BenchRow[];
  readonly warnings: string[];
}

/** Where a run is: a line for a person, and the fraction done (shapes weighted by their size). */
export interface BenchProgress {
  readonly message: string;
  readonly fraction: number;
}

const { STORAGE, COPY_DST, COPY_SRC } = BufferUsage;

/** A shape of a run, with the dtypes of the suites that time it. */
interface RunShape {
  readonly shape: number[];
  readonly dtypes: Dtype[];
}

/** Each shape of a run, in order (the float32 suite's first), with the suites that time it. */
function runShapes(config: BenchConfig): RunShape[] {
  const halfDtypes = config.halfDtypes ?? HALF_DTYPES;
  const byShape = new Map<string, RunShape>();
  const add = (shape: number[], dtype: Dtype) => {
    const key = JSON.stringify(shape);
    if (!byShape.has(key)) byShape.set(key, { shape, dtypes: [] });
    const { dtypes } = byShape.get(key)!;
    if (!dtypes.includes(dtype)) dtypes.push(dtype);
  };
  for (const shape of config.shapes) add(shape, 'float32');
  for (const shape of config.halfShapes ?? []) halfDtypes.forEach((dtype) => add(shape, dtype));
  return [...byShape.values()];
}

/** A shape's share of a run: its element count for each suite that times it, plus a fixed cost per shape (compiling, peers' set-up). */
const FIXED_COST_ELEMENTS = 1e6;

function shapeWeights(shapes: readonly RunShape[]): number[] {
  const weights = shapes.map(({ shape, dtypes }) => shape.reduce((a, b) => a * b, 1) * dtypes.length + FIXED_COST_ELEMENTS);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

interface Candidate extends TimedCandidate {
  /** Whether the result is a loss to check against the reference of its dtype (rooflines return a checksum). */
  readonly isLoss: boolean;
  /** For rooflines: the checksum a correct pass returns (computed on the host). */
  readonly checksum?: number;
}

function hostSum(values: Float32Array, count = values.length, map: (x: number) => number = (x) => x): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += map(values[i]!);
  return sum;
}

/** The log-sum-exp of `values` and `zeros` zeros, in float64. */
function hostLogSumExp(values: Float32Array, zeros: number): number {
  let max = zeros > 0 ? 0 : -Infinity;
  for (const x of values) max = Math.max(max, x);
  return max + Math.log(hostSum(values, values.length, (x) => Math.exp(x - max)) + zeros * Math.exp(-max));
}

/** What every shape of a run shares: the device and what runs on it. */
interface BenchSession {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly ce: CrossEntropy;
  /** The same with subgroups forced on, where the device has them. */
  readonly ceSubgroups: CrossEntropy | null;
  readonly roofline: Roofline;
  readonly jaxReady: boolean;
  /** WebGPU errors no scope caught (a peer's asynchronous work). */
  readonly uncaptured: string[];
  destroy(): void;
}

/**
 * The benchmark's own device, with WebGPU's default limits (128 MiB per storage binding, 256 MiB
 * per buffer) whatever an adapter could offer: [2048, 32000] is over one binding (processed in
 * pieces) and [4096, 32000] over one buffer (streamed from the host).
 */
async function openSession(): Promise<BenchSession> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice({
    // Subgroups where offered, to time the kernels' subgroup form beside the default choice.
    requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [],
  });
  const uncaptured: string[] = [];
  device.addEventListener('uncapturederror', (event) => uncaptured.push((event as GPUUncapturedErrorEvent).error.message));
  try {
    await initTfjs(device, adapter.info);
    const jaxReady = await initJaxjs().catch(() => false);
    const ce = await CrossEntropy.create({ device });
    const ceSubgroups = device.features.has('subgroups') ? await CrossEntropy.create({ device, subgroups: true }) : null;
    const roofline = new Roofline(device);
    return {
      adapter, device, ce, ceSubgroups, roofline, jaxReady, uncaptured,
      destroy: () => {
        roofline.destroy();
        ce.destroy();
        ceSubgroups?.destroy();
        device.destroy();
      },
    };
  } catch (error) {
    device.destroy();
    throw error;
  }
}

/** A shape's candidates, the rows of those that do not apply, and what to free after timing them. */
interface ShapeCandidates {
  readonly candidates: Candidate[];
  readonly skipped: BenchRow[];
  release(): void;
}

function skip(shape: number[], impl: string, note: string, dtype: Dtype = 'float32'): BenchRow {
  return { shape, impl, dtype, median_ms: null, gbps: null, rel_error: null, runs: 0, note };
}

/**
 * Every implementation and floor at one shape with float32 logits, prepared with its inputs on the
 * GPU; over one buffer, only what streams the logits from the host.
 */
async function prepareCandidates(session: BenchSession, shape: number[], problem: BenchProblem,
  progress: (message: string) => void): Promise<ShapeCandidates> {
  const { device, roofline, ce, ceSubgroups } = session;
  const bytes = problem.logits.byteLength;
  const logitsInput = { data: problem.logits, shape };
  const targetInput = { data: problem.targets, shape: [shape[0]!, ...shape.slice(2)] };
  // Every candidate here reads float32 logits: the dtype is added on return.
  const candidates: Omit<Candidate, 'dtype'>[] = [];
  const skipped: BenchRow[] = [];
  const prepared: Prepared[] = [];
  const owned: GPUBuffer[] = [];
  const release = () => {
    prepared.forEach((p) => p.dispose());
    owned.forEach((b) => b.destroy());
  };
  const gpuBuffer = (data: Float32Array | Int32Array) => {
    // Padded to whole vec4s (zeros) for the rooflines, which read vec4s.
    const buffer = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage: STORAGE | COPY_DST | COPY_SRC });
    device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    owned.push(buffer);
    return buffer;
  };
  try {
    if (bytes <= device.limits.maxBufferSize) {
      const logits = gpuBuffer(problem.logits);
      const targets = gpuBuffer(problem.targets);
      const padded = Math.max(16, Math.ceil(bytes / 16) * 16);
      const copy = device.createBuffer({ size: padded, usage: STORAGE | COPY_SRC });
      owned.push(copy);
      progress('tuning the rooflines to the adapter');
      candidates.push({ name: 'roofline-read', run: await roofline.prepareRead(logits, padded), isLoss: false,
        checksum: hostSum(problem.logits) });
      candidates.push({ name: 'roofline-copy', run: await roofline.prepareCopy(logits, copy, padded), isLoss: false,
        checksum: hostSum(problem.logits, 4) });
      // The exp floors: the rooflines with exp of every value, the least any softmax computes. Their
      // padding zeros add exp(0) = 1 each to the sum.
      const padding = padded / 4 - problem.logits.length;
      candidates.push({ name: 'floor-exp-read', run: await roofline.prepareRead(logits, padded, 'exp'), isLoss: false,
        checksum: hostSum(problem.logits, problem.logits.length, Math.exp) + padding });
      candidates.push({ name: 'floor-exp-copy', run: await roofline.prepareCopy(logits, copy, padded, 'exp'), isLoss: false,
        checksum: hostSum(problem.logits, Math.min(4, problem.logits.length), Math.exp) + Math.max(0, 4 - problem.logits.length) });
      // The softmax floors: an online log-sum-exp of every value, the least a one-pass softmax does
      // (plain, and with ours' exact bookkeeping), and with the copy, exp(value - log-sum-exp)
      // written after it. Padding zeros count as values.
      const lse = hostLogSumExp(problem.logits, padding);
      const softmaxChecksum = hostSum(problem.logits, Math.min(4, problem.logits.length), (x) => Math.exp(x - lse))
        + Math.max(0, 4 - problem.logits.length) * Math.exp(-lse);
      for (const [kind, name] of [['softmax', 'floor-softmax'], ['exact', 'floor-exact']] as const) {
        candidates.push({ name: `${name}-read`, run: await roofline.prepareRead(logits, padded, kind), isLoss: false,
          checksum: lse });
        candidates.push({ name: `${name}-copy`, run: await roofline.prepareCopy(logits, copy, padded, kind), isLoss: false,
          checksum: softmaxChecksum });
      }
      const gpuLogits = { data: logits, shape };
      const gpuTargets = { data: targets, shape: targetInput.shape };
      candidates.push({ name: 'ours-forward', run: async () => (await ce.forward(gpuLogits, gpuTargets)).loss, isLoss: true });
      // Where row-stats has a subgroup form (contiguous rows a multiple of 4 long), forced on.
      if (ceSubgroups && shape.length === 2 && shape[1]! % 4 === 0) {
        candidates.push({ name: 'ours-forward-subgroups', run: async () => (await ceSubgroups.forward(gpuLogits, gpuTargets)).loss,
          isLoss: true });
      }
      candidates.push({
        name: 'ours-forward-grad',
        run: async () => {
          const run = await ce.forwardGpu(gpuLogits, gpuTargets, { grad: true });
          try {
            return (await run.readLoss()).loss;
          } finally {
            run.destroy();
          }
        },
        isLoss: true,
      });
      const rowMajor = channelsLast(problem);
      for (const [peer, prepare] of [['tfjs-webgpu', prepareTfjs], ['jaxjs-webgpu', session.jaxReady ? prepareJaxjs : null]] as const) {
        if (prepare === null) {
          skipped.push(skip(shape, peer, 'no WebGPU backend'));
          continue;
        }
        try {
          // Preparing runs the peer's kernels (TF.js's one-hot) on the shared device: scoped too.
          const p = await afterErrorScopes(device, 'bench', async () => prepare(rowMajor));
          prepared.push(p);
          candidates.push({ name: peer, run: p.forward, isLoss: true });
          candidates.push({ name: `${peer}-grad`, run: p.forwardGrad, isLoss: true });
        } catch (error) {
          for (const impl of [peer, `${peer}-grad`]) skipped.push(skip(shape, impl, `failed to prepare: ${failure(error)}`));
        }
      }
    } else {
      // Over one buffer: the logits live on the host and are streamed; so is the roofline.
      const pieceBytes = Math.min(device.limits.maxStorageBufferBindingSize, 64 * 1024 * 1024);
      progress('tuning the roofline to the adapter');
      candidates.push({ name: 'roofline-read', run: await roofline.prepareStreamedRead(problem.logits, pieceBytes), isLoss: false,
        checksum: hostSum(problem.logits) });
      candidates.push({ name: 'ours-forward', run: async () => (await ce.forward(logitsInput, targetInput)).loss, isLoss: true });
      for (const impl of ['roofline-copy', 'ours-forward-grad', 'tfjs-webgpu', 'tfjs-webgpu-grad', 'jaxjs-webgpu', 'jaxjs-webgpu-grad']) {
        skipped.push(skip(shape, impl, `logits (${bytes} bytes) exceed maxBufferSize; only the host-streamed forward applies`));
      }
    }
  } catch (error) {
    release();
    throw error;
  }
  candidates.push({ name: 'cpu-reference', run: async () => crossEntropyReference(logitsInput, targetInput).loss as number, isLoss: true });
  if (shape.length === 2 && shape[0]! * shape[1]! <= 16) {
    candidates.push({ name: 'empty-roundtrip', run: () => roofline.emptyRoundTrip(), isLoss: false });
  }
  return { candidates: candidates.map((c) => ({ ...c, dtype: 'float32' })), skipped, release };
}

/**
 * Ours and the rooflines at one shape with 16-bit logits (`bits`, the problem's values rounded to
 * `dtype`), packed two per word in a GPU buffer as the library takes them. The peers have no
 * 16-bit path, and the float64 reference loop costs what it costs for float32 (after an upcast),
 * so neither is timed.
 */
async function prepareHalfCandidates(session: BenchSession, shape: number[], problem: BenchProblem, bits: Uint16Array,
  dtype: HalfDtype, progress: (message: string) => void): Promise<ShapeCandidates> {
  const { device, roofline, ce } = session;
  const owned: GPUBuffer[] = [];
  const release = () => owned.forEach((b) => b.destroy());
  const bytes = bits.byteLength;
  // Padded to whole vec4s of words for the rooflines, which read them: zeros, 0 in both formats.
  const padded = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (padded > device.limits.maxBufferSize) {
    const note = `${dtype} logits (${bytes} bytes) exceed maxBufferSize; the 16-bit suites time logits on the GPU only`;
    const skipped = ['roofline-read', 'roofline-copy', 'ours-forward', 'ours-forward-grad'].map((impl) => skip(shape, impl, note, dtype));
    return { candidates: [], skipped, release };
  }
  try {
    const buffer = (size: number, usage: number) => {
      const b = device.createBuffer({ size, usage });
      owned.push(b);
      return b;
    };
    const logits = buffer(padded, STORAGE | COPY_DST | COPY_SRC);
    const words = new Uint16Array(padded / 2);
    words.set(bits);
    device.queue.writeBuffer(logits, 0, words);
    const targets = buffer(Math.max(16, Math.ceil(problem.targets.byteLength / 16) * 16), STORAGE | COPY_DST);
    device.queue.writeBuffer(targets, 0, problem.targets);
    const copy = buffer(padded, STORAGE | COPY_SRC);
    progress(`tuning the ${dtype} rooflines to the adapter`);
    const candidates: Candidate[] = [
      { name: 'roofline-read', dtype, run: await roofline.prepareRead(logits, padded, 'roofline', dtype), isLoss: false,
        checksum: hostSum(decodeHalf(bits, dtype)) },
      // The copy's checksum: its first eight values' bit patterns, added as integers.
      { name: 'roofline-copy', dtype, run: await roofline.prepareCopy(logits, copy, padded, 'roofline', dtype), isLoss: false,
        checksum: words.subarray(0, 8).reduce((a, b) => a + b, 0) },
    ];
    const gpuLogits = { data: logits, shape, dtype };
    const gpuTargets = { data: targets, shape: [shape[0]!, ...shape.slice(2)] };
    candidates.push({ name: 'ours-forward', dtype, run: async () => (await ce.forward(gpuLogits, gpuTargets)).loss, isLoss: true });
    candidates.push({
      name: 'ours-forward-grad',
      dtype,
      // The gradient comes in the logits' dtype (the default): 16-bit values written, as the copy roofline writes them.
      run: async () => {
        const run = await ce.forwardGpu(gpuLogits, gpuTargets, { grad: true });
        try {
          return (await run.readLoss()).loss;
        } finally {
          run.destroy();
        }
      },
      isLoss: true,
    });
    return { candidates, skipped: [], release };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * One row per candidate: its median, bandwidth (of the logits in its dtype), error against what it
 * should return (a loss: `references`' float64 loss of its dtype's logits), notes.
 */
function rowsOf(shape: number[], references: ReadonlyMap<Dtype, number>, candidates: readonly Candidate[],
  { times, results, firsts, failed }: Timings<Candidate>): BenchRow[] {
  const count = shape.reduce((a, b) => a * b, 1);
  return candidates.map((candidate) => {
    const t = times.get(candidate)!;
    const ms = failed.has(candidate) || t.length === 0 ? null : median(t);
    const value = results.get(candidate);
    const expected = candidate.isLoss ? references.get(candidate.dtype) : candidate.checksum;
    const bytes = count * (candidate.dtype === 'float32' ? 4 : 2);
    return {
      shape, impl: candidate.name, dtype: candidate.dtype, median_ms: ms, gbps: ms === null ? null : bytes / (ms * 1e6),
      rel_error: expected !== undefined && value !== undefined && !failed.has(candidate)
        ? Math.abs(value - expected) / Math.max(Math.abs(expected), 1) : null,
      ...(firsts.has(candidate) ? { first_ms: firsts.get(candidate)! } : {}),
      runs: t.length,
      ...(failed.has(candidate) ? { note: failed.get(candidate)! } : {}),
    };
  });
}

/**
 * Runs the benchmark on its own device and reports progress as it goes: per shape, the problem,
 * its float64 reference in each dtype timed there, the candidates of every suite prepared, warmed
 * up and timed together; the device is destroyed at the end.
 *
 * @example
 * const { rows } = await runBench(SHORT_RUN, ({ message, fraction }) => console.log(fraction, message));
 */
export async function runBench(config: BenchConfig, onProgress: (progress: BenchProgress) => void = () => {}): Promise<BenchResult> {
  const session = await openSession();
  try {
    const rows: BenchRow[] = [];
    const warnings: string[] = [];
    const shapes = runShapes(config);
    const weights = shapeWeights(shapes);
    let done = 0;
    for (const [index, { shape, dtypes }] of shapes.entries()) {
      const label = `[${shape.join(', ')}]`;
      const report = (message: string, fraction = 0) => onProgress({ message: `${label}: ${message}`,
        fraction: done + weights[index]! * Math.min(fraction, 1) });
      report('generating data');
      const problem = makeProblem(shape);
      const target = { data: problem.targets, shape: [shape[0]!, ...shape.slice(2)] };
      const references = new Map<Dtype, number>();
      const suites: ShapeCandidates[] = [];
      try {
        for (const dtype of dtypes) {
          if (dtype === 'float32') {
            report('float64 reference');
            references.set(dtype, crossEntropyReference({ data: problem.logits, shape }, target).loss as number);
            suites.push(await prepareCandidates(session, shape, problem, (m) => report(m)));
          } else {
            // The same values rounded to the 16-bit format; the reference computes on their exact upcast.
            const bits = encodeHalf(problem.logits, dtype);
            report(`float64 reference of the ${dtype} logits`);
            references.set(dtype, crossEntropyReference({ data: bits, shape, dtype }, target).loss as number);
            suites.push(await prepareHalfCandidates(session, shape, problem, bits, dtype, (m) => report(m)));
          }
        }
        const candidates = suites.flatMap((suite) => suite.candidates);
        // Within a shape: each candidate's warm-up, then each round, count as one step.
        const steps = candidates.length + config.rounds;
        const timings = await timeCandidates(session.device, candidates, config, (m, step) => report(m, step / steps));
        rows.push(...rowsOf(shape, references, candidates, timings), ...suites.flatMap((suite) => suite.skipped));
      } finally {
        suites.forEach((suite) => suite.release());
      }
      if (session.uncaptured.length > 0) {
        // Errors no scope caught (a peer's asynchronous work): reported, and the run goes on.
        warnings.push(`${label}: ${session.uncaptured.splice(0).map((e) => e.split('\n')[0]).join('; ')}`);
      }
      done += weights[index]!;
    }
    if (config.linear) {
      // The linear suite after the softmax suites; progress reports its messages (the fraction is the softmax suites').
      rows.push(...await runLinearSuite(session.device, config.linear, config, (message) => onProgress({ message, fraction: done })));
      if (session.uncaptured.length > 0) warnings.push(`linear suite: ${session.uncaptured.splice(0).map((e) => e.split('\n')[0]).join('; ')}`);
    }
    const { adapter, device } = session;
    return {
      adapter: { vendor: adapter.info.vendor, architecture: adapter.info.architecture, description: adapter.info.description,
        features: [...adapter.features],
        deviceLimits: {
          maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
          maxBufferSize: device.limits.maxBufferSize,
        } },
      rows,
      warnings,
    };
  } finally {
    session.destroy();
  }
}
