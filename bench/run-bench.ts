/**
 * The benchmark (DESIGN.md §5), as a function both pages call: bench/index.html (driven by
 * `npm run bench`) and the demo page's benchmark view. For each shape, every implementation is
 * prepared with its inputs already on the GPU, warmed up, then timed round by round, interleaved,
 * from the call to the loss read back on the host. Each implementation's loss is checked against
 * the float64 reference.
 */
import { CrossEntropy, crossEntropyReference } from '../src/index.js';
import { initJaxjs, initTfjs, prepareJaxjs, prepareTfjs, type Prepared } from './peers.js';
import type { BenchConfig } from './presets.mjs';
import { channelsLast, makeProblem } from './problem.js';
import type { BenchRow } from './ratios.mjs';
import { Roofline } from './roofline.js';

export type { BenchConfig } from './presets.mjs';
export type { BenchRow } from './ratios.mjs';

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

const STORAGE = 0x80;
const COPY_DST = 0x08;
const COPY_SRC = 0x04;

/**
 * Runs one call of a candidate inside error scopes on the shared device, so a WebGPU error that a
 * peer (TF.js runs on this device) causes is that candidate's failure, reported with its message.
 */
async function scoped(device: GPUDevice, run: () => Promise<number>): Promise<{ value: number; ms: number }> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let value: number | undefined;
  let thrown: unknown;
  // Only the call itself is timed, not the error scopes around it.
  const start = performance.now();
  let ms = 0;
  try {
    value = await run();
    ms = performance.now() - start;
  } catch (error) {
    thrown = error;
  }
  const validation = await device.popErrorScope();
  const outOfMemory = await device.popErrorScope();
  if (thrown !== undefined) throw thrown;
  const error = validation ?? outOfMemory;
  if (error) throw new Error(error.message.split('\n')[0]);
  return { value: value!, ms };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A shape's share of a run: its element count plus a fixed cost per shape (compiling, peers' set-up). */
const FIXED_COST_ELEMENTS = 1e6;

function shapeWeights(shapes: readonly number[][]): number[] {
  const weights = shapes.map((shape) => shape.reduce((a, b) => a * b, 1) + FIXED_COST_ELEMENTS);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

interface Candidate {
  readonly name: string;
  readonly run: () => Promise<number>;
  /** Whether the result is a loss to check against the reference (rooflines return a checksum). */
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

/**
 * Runs the benchmark on its own device (WebGPU's default limits) and reports progress as it goes.
 *
 * @example
 * const { rows } = await runBench(SHORT_RUN, ({ message, fraction }) => console.log(fraction, message));
 */
export async function runBench(config: BenchConfig, onProgress: (progress: BenchProgress) => void = () => {}): Promise<BenchResult> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  // WebGPU's default limits (128 MiB per storage binding, 256 MiB per buffer), as DESIGN.md §5's
  // shapes assume: [2048, 32000] is over one binding (processed in pieces) and [4096, 32000] over
  // one buffer (streamed from the host), whatever larger limits an adapter could offer.
  const device = await adapter.requestDevice({
    // Subgroups where offered, to time the kernels' subgroup form beside the default choice.
    requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [],
  });
  const gpuErrors: string[] = [];
  device.addEventListener('uncapturederror', (event) => gpuErrors.push((event as GPUUncapturedErrorEvent).error.message));
  const info = adapter.info;
  await initTfjs(device, info);
  const jaxReady = await initJaxjs().catch(() => false);
  const ce = await CrossEntropy.create({ device });
  const ceSubgroups = device.features.has('subgroups') ? await CrossEntropy.create({ device, subgroups: true }) : null;
  const roofline = new Roofline(device);
  const rows: BenchRow[] = [];
  const warnings: string[] = [];

  const weights = shapeWeights(config.shapes);
  let done = 0;
  for (const [shapeIndex, shape] of config.shapes.entries()) {
    const label = `[${shape.join(', ')}]`;
    // Within a shape: each candidate's warm-up, then each round, count as one step.
    let step = 0;
    let steps = 1;
    const progress = (message: string) => onProgress({ message, fraction: done + weights[shapeIndex]! * Math.min(step / steps, 1) });
    progress(`${label}: generating data`);
    const problem = makeProblem(shape);
    const bytes = problem.logits.byteLength;
    const onGpu = bytes <= device.limits.maxBufferSize;
    const owned: GPUBuffer[] = [];
    const gpuBuffer = (data: Float32Array | Int32Array, extra = 0) => {
      // Padded to whole vec4s (zeros) for the rooflines, which read vec4s.
      const buffer = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage: STORAGE | COPY_DST | COPY_SRC | extra });
      device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      owned.push(buffer);
      return buffer;
    };

    progress(`${label}: float64 reference`);
    const logitsInput = { data: problem.logits, shape };
    const targetInput = { data: problem.targets, shape: [shape[0]!, ...shape.slice(2)] };
    const reference = crossEntropyReference(logitsInput, targetInput).loss as number;

    const candidates: Candidate[] = [];
    const skipped: BenchRow[] = [];
    const prepared: Prepared[] = [];
    if (onGpu) {
      const logits = gpuBuffer(problem.logits);
      const targets = gpuBuffer(problem.targets);
      const padded = Math.max(16, Math.ceil(bytes / 16) * 16);
      const copy = device.createBuffer({ size: padded, usage: STORAGE | COPY_SRC });
      owned.push(copy);
      progress(`${label}: tuning the rooflines to the adapter`);
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
      for (const [peer, prepare] of [['tfjs-webgpu', prepareTfjs], ['jaxjs-webgpu', jaxReady ? prepareJaxjs : null]] as const) {
        if (prepare === null) {
          skipped.push({ shape, impl: peer, median_ms: null, gbps: null, rel_error: null, runs: 0, note: 'no WebGPU backend' });
          continue;
        }
        try {
          // Preparing runs the peer's kernels (TF.js's one-hot) on the shared device: scoped too.
          let p: Prepared | undefined;
          await scoped(device, async () => {
            p = prepare(rowMajor);
            return 0;
          });
          prepared.push(p!);
          candidates.push({ name: peer, run: p!.forward, isLoss: true });
          candidates.push({ name: `${peer}-grad`, run: p!.forwardGrad, isLoss: true });
        } catch (error) {
          const note = `failed to prepare: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
          for (const impl of [peer, `${peer}-grad`]) {
            skipped.push({ shape, impl, median_ms: null, gbps: null, rel_error: null, runs: 0, note });
          }
        }
      }
    } else {
      // Over one buffer: the logits live on the host and are streamed; so is the roofline.
      const pieceBytes = Math.min(device.limits.maxStorageBufferBindingSize, 64 * 1024 * 1024);
      progress(`${label}: tuning the roofline to the adapter`);
      candidates.push({ name: 'roofline-read', run: await roofline.prepareStreamedRead(problem.logits, pieceBytes), isLoss: false,
        checksum: hostSum(problem.logits) });
      candidates.push({ name: 'ours-forward', run: async () => (await ce.forward(logitsInput, targetInput)).loss, isLoss: true });
      for (const impl of ['roofline-copy', 'ours-forward-grad', 'tfjs-webgpu', 'tfjs-webgpu-grad', 'jaxjs-webgpu', 'jaxjs-webgpu-grad']) {
        skipped.push({ shape, impl, median_ms: null, gbps: null, rel_error: null, runs: 0,
          note: `logits (${bytes} bytes) exceed maxBufferSize; only the host-streamed forward applies` });
      }
    }
    candidates.push({ name: 'cpu-reference', run: async () => crossEntropyReference(logitsInput, targetInput).loss as number, isLoss: true });
    if (shape.length === 2 && shape[0]! * shape[1]! <= 16) {
      candidates.push({ name: 'empty-roundtrip', run: () => roofline.emptyRoundTrip(), isLoss: false });
    }

    steps = candidates.length + config.rounds;
    const times = new Map<string, number[]>();
    const results = new Map<string, number>();
    const firsts = new Map<string, number>();
    const failed = new Map<string, string>();
    for (const candidate of candidates) {
      progress(`${label}: warm-up ${candidate.name}`);
      try {
        for (let w = 0; w < config.warmup; w++) {
          const { value, ms: elapsed } = await scoped(device, candidate.run);
          results.set(candidate.name, value);
          if (w === 0) firsts.set(candidate.name, elapsed);
          if (elapsed > config.slowLimitMs && candidate.name !== 'cpu-reference' && !candidate.name.startsWith('ours')
              && !candidate.name.startsWith('roofline') && !candidate.name.startsWith('floor')) {
            failed.set(candidate.name, `too slow to time ${config.rounds} rounds: one call took ${elapsed.toFixed(0)} ms`);
            break;
          }
        }
      } catch (error) {
        failed.set(candidate.name, error instanceof Error ? error.message.split('\n')[0]! : String(error));
      }
      times.set(candidate.name, []);
      step++;
    }
    for (let round = 0; round < config.rounds; round++) {
      progress(`${label}: round ${round + 1}/${config.rounds}`);
      // Each round starts one candidate later: at small shapes the first call of a round (after
      // the last one's readback) was the slow one (the roofline read of [1, 3] took 1.4 ms in a
      // round starting with it, the same read with the exact floor's work 0.5 ms after it).
      const start = round % candidates.length;
      for (const candidate of [...candidates.slice(start), ...candidates.slice(0, start)]) {
        if (failed.has(candidate.name)) continue;
        try {
          const { value, ms } = await scoped(device, candidate.run);
          results.set(candidate.name, value);
          times.get(candidate.name)!.push(ms);
        } catch (error) {
          failed.set(candidate.name, error instanceof Error ? error.message.split('\n')[0]! : String(error));
        }
      }
      step++;
    }
    for (const candidate of candidates) {
      const t = times.get(candidate.name)!;
      const ms = failed.has(candidate.name) || t.length === 0 ? null : median(t);
      const value = results.get(candidate.name);
      const expected = candidate.isLoss ? reference : candidate.checksum;
      rows.push({
        shape, impl: candidate.name, median_ms: ms, gbps: ms === null ? null : bytes / (ms * 1e6),
        rel_error: expected !== undefined && value !== undefined && !failed.has(candidate.name)
          ? Math.abs(value - expected) / Math.max(Math.abs(expected), 1) : null,
        ...(firsts.has(candidate.name) ? { first_ms: firsts.get(candidate.name)! } : {}),
        runs: t.length,
        ...(failed.has(candidate.name) ? { note: failed.get(candidate.name)! } : {}),
      });
    }
    rows.push(...skipped);
    prepared.forEach((p) => p.dispose());
    owned.forEach((b) => b.destroy());
    if (gpuErrors.length > 0) {
      // Errors no scope caught (a peer's asynchronous work): reported, and the run goes on.
      warnings.push(`${label}: ${gpuErrors.splice(0).map((e) => e.split('\n')[0]).join('; ')}`);
    }
    done += weights[shapeIndex]!;
  }
  roofline.destroy();
  ce.destroy();
  ceSubgroups?.destroy();
  return {
    adapter: { vendor: info.vendor, architecture: info.architecture, description: info.description,
      features: [...adapter.features],
      deviceLimits: {
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        maxBufferSize: device.limits.maxBufferSize,
      } },
    rows,
    warnings,
  };
}
