/**
 * The plan of GPU passes, read without a GPU: which kernels run in which order for the problem
 * shapes that take each path, what each binds, and that every binding a pass names is one its
 * kernel declares and every buffer one the call has.
 */
import { describe, expect, it } from 'vitest';
import { KERNELS } from '../../src/gpu/kernels.js';
import type { Problem } from '../../src/options.js';
import { planPasses, type CallShape, type CrossEntropyPasses } from '../../src/passes.js';
import { planWork, type PlanLimits } from '../../src/plan.js';

const MiB = 1024 * 1024;
/** WebGPU's default limits (what the pieces and streaming are planned against). */
const LIMITS: PlanLimits = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB,
  minStorageBufferOffsetAlignment: 256 };

function problemOf(shape: number[], options: Partial<Problem> = {}): Problem {
  const [n, classes, ...spatial] = shape as [number, number, ...number[]];
  const inner = spatial.reduce((a, b) => a * b, 1);
  return {
    logitsShape: shape, targetShape: [n, ...spatial], layout: { rows: n * inner, classes, inner, rowShape: [n, ...spatial] },
    targetKind: 'classIndex', reduction: 'mean', ignoreIndex: -100, labelSmoothing: 0, input: 'logits', zLoss: 0,
    softcap: 0, grad: false, gradInPlace: false, dtype: 'float32', gradDtype: 'float32', ...options,
  };
}

const CALL: CallShape = { hasWeight: false, hasGradOutput: false, gradInPlace: true, subgroupSize: 0 };

function plan(shape: number[], options: Partial<Problem> = {}, call: Partial<CallShape> = {}, hostLogits = true) {
  const problem = problemOf(shape, options);
  return planPasses(problem, planWork(problem, LIMITS, hostLogits), { ...CALL, ...call });
}

/** "stage:kernel" of each pass, pieces marked. */
function sequence(passes: CrossEntropyPasses): string[] {
  return passes.passes.map((p) => `${p.stage}:${p.kernel}${p.piece === undefined ? '' : `@${p.piece}`}`);
}

/** Every pass binds exactly its kernel's bindings (params aside) to buffers the call has. */
function expectConsistent(passes: CrossEntropyPasses): void {
  const known = new Set(['logits', 'target', 'weight', 'grad-output', 'absent', ...passes.buffers.map((b) => b.name)]);
  for (const pass of passes.passes) {
    const bindings = Object.keys(KERNELS[pass.kernel].bindings).filter((b) => b !== 'params').sort();
    expect(Object.keys(pass.resources).sort(), pass.kernel).toEqual(bindings);
    for (const slice of Object.values(pass.resources)) expect(known.has(slice.buffer), slice.buffer).toBe(true);
    expect(passes.uniforms[pass.uniforms], pass.kernel).toBeDefined();
    expect(pass.invocations).toBeGreaterThan(0);
  }
  for (const result of Object.values(passes.results)) if (result !== null) expect(known.has(result), result).toBe(true);
}

describe('planPasses', () => {
  it('[1, 3]: the loss kernel scans the row itself; one reduce level', () => {
    const passes = plan([1, 3]);
    expectConsistent(passes);
    expect(sequence(passes)).toEqual(['rows:rowLossScan@0', 'reduce:batchReduce']);
    expect(passes.results).toMatchObject({ loss: 'batch-loss-0', grad: null, rowSummary: 'row-summary' });
  });

  it('[1, 3] with the gradient: row weights and the denominator first, then loss and gradient in one pass', () => {
    const passes = plan([1, 3], { grad: true });
    expectConsistent(passes);
    expect(sequence(passes)).toEqual(['weights:rowWeights@0', 'denominator:batchReduce', 'rows:rowLossGradScan@0',
      'reduce:batchReduce']);
    // The gradient is scaled by the denominator's sum, and written over the (uploaded) logits.
    expect(passes.passes[2]!.resources.scale_input).toEqual({ buffer: 'denominator-weight-0' });
    expect(passes.results).toMatchObject({ grad: 'logits', rowSummary: null });
  });

  it('[4096, 1000]: vec4 statistics, merge, two reduce levels; the gradient from the summaries', () => {
    const forward = plan([4096, 1000]);
    expectConsistent(forward);
    expect(sequence(forward)).toEqual(['rows:rowStatsVec4@0', 'rows:rowLoss@0', 'reduce:batchReduce',
      'reduce:batchReduce']);
    expect(forward.passes[0]!.invocations).toBe(4096);
    const withGrad = plan([4096, 1000], { grad: true }, { gradInPlace: false });
    expectConsistent(withGrad);
    expect(sequence(withGrad)).toEqual([...sequence(forward), 'grad:rowGradVec4@0']);
    expect(withGrad.passes.at(-1)!.resources).toMatchObject({ logits: { buffer: 'logits' },
      grad: { buffer: 'grad', offset: 0, size: 4096 * 1000 * 4 }, scale_input: { buffer: 'batch-weight-1' } });
    expect(withGrad.results.grad).toBe('grad');
  });

  it('[32, 128256]: rows cut into 126 chunks of 1,020 classes, read as vec4s; subgroups where made with them', () => {
    const passes = plan([32, 128256], { reduction: 'sum' });
    expectConsistent(passes);
    expect(passes.work).toMatchObject({ chunks: 126, chunkLen: 1020, vec4: true });
    expect(sequence(passes)).toEqual(['rows:rowStatsVec4@0', 'rows:rowLoss@0', 'reduce:batchReduce']);
    expect(passes.passes[0]!.invocations).toBe(32 * 126);
    const bySubgroup = plan([32, 128256], { reduction: 'sum', grad: true }, { subgroupSize: 32 });
    expectConsistent(bySubgroup);
    expect(sequence(bySubgroup)).toEqual(['rows:rowStatsSubgroup@0', 'rows:rowLoss@0', 'reduce:batchReduce',
      'grad:rowGradVec4@0']);
    expect(bySubgroup.passes[0]!.invocations).toBe(32 * 126 * 32);
  });

  it('K-dimensional [2, 21, 16, 16]: lanes of four neighbouring rows; no reduction for \'none\'', () => {
    const passes = plan([2, 21, 16, 16], { reduction: 'none' });
    expectConsistent(passes);
    expect(sequence(passes)).toEqual(['rows:rowLossLanes@0']);
    expect(passes.passes[0]!.invocations).toBe(2 * 256 / 4);
    expect(passes.results.loss).toBe('row-loss');
    const withGrad = plan([2, 21, 16, 16], { reduction: 'none', grad: true }, { hasGradOutput: true });
    expectConsistent(withGrad);
    expect(sequence(withGrad)).toEqual(['rows:rowLossGradLanes@0']);
    expect(withGrad.passes[0]!.resources.scale_input).toEqual({ buffer: 'grad-output', offset: 0, size: 512 * 4 });
  });

  it('a GPUBuffer of logits over one binding: pieces of whole rows, each with its slices', () => {
    const passes = plan([1100, 32000], { grad: true, labelSmoothing: 0.1 }, { hasWeight: true }, false);
    expectConsistent(passes);
    const pieces = passes.work.pieces;
    expect(pieces.length).toBe(2);
    expect(sequence(passes)).toEqual(['rows:rowStatsVec4@0', 'rows:rowLoss@0', 'rows:rowStatsVec4@1', 'rows:rowLoss@1',
      'reduce:batchReduce', 'reduce:batchReduce', 'grad:rowGradVec4@0', 'grad:rowGradVec4@1']);
    const secondStats = passes.passes[2]!;
    expect(secondStats.uniforms).toBe(1);
    expect(secondStats.resources.logits).toEqual({ buffer: 'logits', offset: pieces[1]!.firstRow * 32000 * 4,
      size: pieces[1]!.rows * 32000 * 4 });
    expect(secondStats.resources.weight).toEqual({ buffer: 'weight', size: 32000 * 4 });
    expect(passes.uniforms[1]!.values).toMatchObject({ rows: pieces[1]!.rows, first_row: pieces[1]!.firstRow });
  });

  it('host logits over one buffer: streamed, each piece read from the start of the one piece buffer', () => {
    const passes = plan([2100, 32000], { reduction: 'mean' });
    expectConsistent(passes);
    expect(passes.work.streamed).toBe(true);
    const rows = passes.passes.filter((p) => p.stage === 'rows');
    expect(rows.length).toBe(2 * passes.work.pieces.length);
    for (const pass of rows.filter((p) => p.kernel === 'rowStatsVec4')) {
      expect(pass.resources.logits).toMatchObject({ buffer: 'logits', offset: 0 });
    }
    expect(passes.passes.every((p) => p.stage === 'rows' || p.stage === 'reduce')).toBe(true);
  });

  it('an empty batch: no passes; the loss written beforehand (NaN for \'mean\', 0 for \'sum\')', () => {
    expect(plan([0, 5]).emptyLoss).toBeNaN();
    expect(plan([0, 5], { reduction: 'sum' }).emptyLoss).toBe(0);
    expect(plan([0, 5], { reduction: 'none' }).emptyLoss).toBeNull();
    expect(plan([0, 5]).passes).toEqual([]);
  });

  it('16-bit logits: the same row passes, then a gradient that owns whole words, in the logits\' dtype', () => {
    const half = { dtype: 'float16', gradDtype: 'float16' } as const;
    const forward = plan([4096, 1000], half);
    expectConsistent(forward);
    expect(sequence(forward)).toEqual(sequence(plan([4096, 1000])));
    expect(forward.passes[0]!.resources.logits).toEqual({ buffer: 'logits', offset: 0, size: 4096 * 1000 * 2 });

    const withGrad = plan([4096, 1000], { ...half, grad: true }, { gradInPlace: false });
    expectConsistent(withGrad);
    expect(sequence(withGrad)).toEqual([...sequence(forward), 'grad:rowGradHalfRows@0']);
    expect(withGrad.passes.at(-1)!.resources).toMatchObject({ grad_words: { buffer: 'grad', offset: 0, size: 4096 * 1000 * 2 } });
    expect(withGrad.buffers.find((b) => b.name === 'grad')!.bytes).toBe(4096 * 1000 * 2);

    // Short rows are not fused with their gradient; an odd element count ends in a partial group.
    const odd = plan([3, 5], { ...half, grad: true });
    expectConsistent(odd);
    expect(sequence(odd)).toEqual(['rows:rowLossScan@0', 'reduce:batchReduce', 'grad:rowGradHalfRows@0',
      'grad:rowGradHalfTail@0']);
    expect(odd.passes[0]!.resources.logits).toEqual({ buffer: 'logits', offset: 0, size: 32 });
    expect(odd.results.grad).toBe('logits');

    // K-dim rows of positions a multiple of 4: lanes; others, and rows under four classes: element by element.
    expect(sequence(plan([2, 21, 16, 16], { ...half, grad: true })).at(-1)).toBe('grad:rowGradHalfLanes@0');
    expect(sequence(plan([2, 3, 5], { ...half, grad: true })).at(-1)).toBe('grad:rowGradHalf@0');
    expect(sequence(plan([9, 3], { ...half, grad: true })).at(-1)).toBe('grad:rowGradHalf@0');

    // An f32 gradient of 16-bit logits: the f32 kernels, reading 16-bit input, into a buffer of its own.
    const f32Grad = plan([3, 5], { dtype: 'bfloat16', gradDtype: 'float32', grad: true }, { gradInPlace: false });
    expectConsistent(f32Grad);
    expect(f32Grad.passes.map((p) => p.kernel)).toContain('rowLossGradScan');
    expect(f32Grad.variant.dtype).toBe('bfloat16');
    expect(f32Grad.buffers.find((b) => b.name === 'grad')!.bytes).toBe(15 * 4);
  });

  it('16-bit logits over one binding: pieces whose byte offsets stay aligned with rows of odd length', () => {
    const passes = plan([2200, 32001], { dtype: 'float16', gradDtype: 'float16', grad: true }, {}, false);
    expectConsistent(passes);
    expect(passes.work.pieces.map((p) => p.firstRow)).toEqual([0, 2048]);
    const second = passes.passes.find((p) => p.piece === 1 && p.stage === 'rows')!;
    expect(second.resources.logits).toEqual({ buffer: 'logits', offset: 2048 * 32001 * 2, size: 152 * 32001 * 2 });
    expect((2048 * 32001 * 2) % 256).toBe(0);
    expect(sequence(passes).filter((s) => s.startsWith('grad:'))).toEqual(['grad:rowGradHalfRows@0',
      'grad:rowGradHalfRows@1']);
  });
});
