/**
 * The linear suite (docs/performance.md, Linear head): at each shape [N, D, V] and dtype, the
 * linear head's step — the loss of hidden · classifierᵀ + bias and its three gradients — by
 * `ce.linearGpu`, by the same products alone (the matmul floor), by materialised logits through
 * `ce.forwardGpu`, and by TF.js; then our logits product against tf.matMul (GFLOPS). Candidates are
 * timed interleaved (bench/timing.ts); each is checked against float64 (bench/linear-problem.ts)
 * and, for ours and the materialised path, its peak GPU memory measured on one more step.
 */
import { kernelsFor, type Kernels } from '../src/gpu/pipelines.js';
import type { Dtype } from '../src/index.js';
import {
  materialised, matmulFloor, matmulPair, oursLinear, Owned, rowsAlone, tfjsLinear, type LinearCandidate, type LinearSetup,
} from './linear-candidates.js';
import { inputsIn, linearReference, makeLinearProblem, type LinearBenchProblem } from './linear-problem.js';
import type { LinearBenchShape, LinearSuiteConfig } from './presets.js';
import type { BenchRow } from './ratios.js';
import { failure, median, timeCandidates, type TimingConfig } from './timing.js';

/** A shape's candidates, the rows of those that do not apply, and what to free after timing them. */
interface Prepared {
  readonly candidates: LinearCandidate[];
  readonly skipped: BenchRow[];
  release(): void;
}

function skip(shape: readonly number[], impl: string, dtype: Dtype, note: string): BenchRow {
  return { suite: 'linear', shape: [...shape], impl, dtype, median_ms: null, gbps: null, rel_error: null, runs: 0, note };
}

/** The candidates of one shape in one dtype, their inputs uploaded. */
async function prepareShape(device: GPUDevice, kernels: Kernels, problem: LinearBenchProblem, dtype: Dtype,
  memoryBudget: number | undefined, progress: (message: string) => void): Promise<Prepared> {
  const { n, d, v } = problem;
  const shape = [n, d, v];
  const owned = new Owned(device);
  const skipped: BenchRow[] = [];
  const candidates: LinearCandidate[] = [];
  try {
    const inputs = inputsIn(problem, dtype);
    progress(`float64 reference${dtype === 'float32' ? '' : ` of the ${dtype} inputs`}`);
    const reference = linearReference(problem, inputs);
    const setup: LinearSetup = { device, kernels, problem, inputs, memoryBudget,
      hidden: owned.upload('hidden', inputs.hidden), classifier: owned.upload('classifier', inputs.classifier),
      bias: owned.upload('bias', problem.bias), targets: owned.upload('targets', problem.targets) };
    const flops = 6 * n * d * v;
    const attempt = async (impl: string, make: () => Promise<LinearCandidate>) => {
      try {
        candidates.push(await make());
      } catch (error) {
        skipped.push(skip(shape, impl, dtype, `failed to prepare: ${failure(error)}`));
      }
    };
    await attempt('ours-linear', () => oursLinear(setup, owned, flops, reference.loss, reference));
    progress('float64 products of the matmul floor');
    await attempt('matmul-floor', () => matmulFloor(setup, owned, flops));
    if (n * v * 4 > device.limits.maxBufferSize) {
      skipped.push(skip(shape, 'ours-materialised', dtype, `logits (${n * v * 4} bytes) exceed maxBufferSize`));
    } else {
      await attempt('ours-materialised', () => materialised(setup, owned, flops, reference.loss, reference));
      // The row kernels' share of ours (they read f32 logits whatever the inputs' dtype): float32 only.
      if (dtype === 'float32') await attempt('ours-rows', () => rowsAlone(setup, owned, reference.loss));
    }
    if (dtype !== 'float32') {
      skipped.push(skip(shape, 'tfjs-linear', dtype, 'TF.js has no 16-bit path'));
    } else if (n * v * 4 > device.limits.maxStorageBufferBindingSize) {
      skipped.push(skip(shape, 'tfjs-linear', dtype, `TF.js binds a whole tensor: logits (${n * v * 4} bytes) exceed one binding`));
    } else {
      await attempt('tfjs-linear', async () => tfjsLinear(setup, owned, flops, reference));
    }
    return { candidates, skipped, release: () => owned.destroy() };
  } catch (error) {
    owned.destroy();
    throw error;
  }
}

/** One row per candidate: median, GFLOPS, the error of what a call returned and of its outputs, its peak memory. */
async function measure(device: GPUDevice, shape: readonly number[], prepared: Prepared, timing: TimingConfig,
  progress: (message: string) => void): Promise<BenchRow[]> {
  const { candidates } = prepared;
  const { times, results, firsts, failed, slow } = await timeCandidates(device, candidates, timing, (message) => progress(message));
  const rows: BenchRow[] = [];
  for (const candidate of candidates) {
    const t = times.get(candidate) ?? [];
    const ms = failed.has(candidate) || t.length === 0 ? null : median(t);
    // A peer too slow to time every round still returned a value from its one call.
    const value = failed.has(candidate) && !slow.has(candidate) ? undefined : results.get(candidate);
    let gradError: number | null = null;
    let peak: number | undefined;
    let note = failed.get(candidate);
    if (!failed.has(candidate)) {
      progress(`checking ${candidate.name}${candidate.dtype === 'float32' ? '' : ` (${candidate.dtype})`}`);
      try {
        // The peak first: a read of the gradients (the check) adds a staging buffer that ours keeps with its prepared call.
        peak = candidate.peakBytes ? await candidate.peakBytes() : undefined;
        // A peer too slow to time every round is not run once more: its outputs were checked at the quick shapes.
        gradError = candidate.check && !slow.has(candidate) ? await candidate.check() : null;
      } catch (error) {
        note = `check failed: ${failure(error)}`;
      }
    }
    rows.push({
      suite: 'linear', shape: [...shape], impl: candidate.name, dtype: candidate.dtype, median_ms: ms, gbps: null,
      gflops: ms === null || candidate.flops === 0 ? null : candidate.flops / (ms * 1e6),
      rel_error: value === undefined ? null
        : Math.abs(value - candidate.expected) / Math.max(Math.abs(candidate.expected), Number.MIN_VALUE),
      grad_rel_error: gradError,
      ...(peak === undefined ? {} : { peak_bytes: peak }),
      ...(candidate.memoryBudget === undefined ? {} : { memory_budget: candidate.memoryBudget }),
      ...(firsts.has(candidate) ? { first_ms: firsts.get(candidate)! } : {}),
      runs: t.length,
      ...(note ? { note } : {}),
    });
  }
  return [...rows, ...prepared.skipped];
}

/**
 * Runs the linear suite on `device`: each shape with every dtype's candidates in the same rounds,
 * then each GFLOPS pair. Returns its rows.
 */
export async function runLinearSuite(device: GPUDevice, config: LinearSuiteConfig,
  timing: Omit<TimingConfig, 'slowLimitMs' | 'slowRounds'>, onProgress: (message: string) => void): Promise<BenchRow[]> {
  const kernels = await kernelsFor(device);
  const suiteTiming = { ...timing, slowLimitMs: config.slowLimitMs, slowRounds: config.slowRounds };
  const rows: BenchRow[] = [];
  const run = async (label: string, shape: readonly number[],
    prepare: (progress: (message: string) => void) => Promise<Prepared[]>) => {
    const progress = (message: string) => onProgress(`linear ${label} [${shape.join(', ')}]: ${message}`);
    const prepared = await prepare(progress);
    try {
      const merged: Prepared = { candidates: prepared.flatMap((p) => p.candidates), skipped: prepared.flatMap((p) => p.skipped),
        release: () => {} };
      rows.push(...await measure(device, shape, merged, suiteTiming, progress));
    } finally {
      prepared.forEach((p) => p.release());
    }
  };
  for (const { shape, memoryBudget, dtypes } of config.shapes as readonly LinearBenchShape[]) {
    const [n, d, v] = shape;
    await run('N × D × V', shape, async (progress) => {
      progress('generating data');
      const problem = makeLinearProblem(n, d, v);
      const prepared: Prepared[] = [];
      try {
        for (const dtype of config.dtypes.filter((each) => dtypes?.includes(each) ?? true)) {
          prepared.push(await prepareShape(device, kernels, problem, dtype, memoryBudget, progress));
        }
      } catch (error) {
        prepared.forEach((p) => p.release());
        throw error;
      }
      return prepared;
    });
  }
  for (const shape of config.matmulShapes) {
    await run('matmul M × K × P', shape, async () => {
      const owned = new Owned(device);
      try {
        return [{ candidates: await matmulPair(device, kernels, owned, shape), skipped: [], release: () => owned.destroy() }];
      } catch (error) {
        owned.destroy();
        throw error;
      }
    });
  }
  return rows;
}
