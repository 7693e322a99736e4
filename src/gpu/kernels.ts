/**
 * Every kernel, described once: its module, entry point, override constants and bindings by name
 * with their kind. Bind-group layouts are made from these descriptions, dispatches bind resources
 * by these names, and a test checks each description against its module's WGSL declarations.
 */
import type { ShaderModuleName } from './shader-modules.js';

/** How a kernel binds a buffer (a GPUBufferBindingType). */
export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

/**
 * Which override constants a kernel takes beyond `workgroup_size`:
 * - `row`: the problem kind of lib/row-common.wgsl (INPUT_KIND, TARGET_KIND, HAS_WEIGHT,
 *   NEED_SMOOTHING_SUM, HAS_SOFTCAP, WRITE_SUMMARY), from the call's RowVariant, and for 16-bit
 *   inputs lib/input-half.wgsl's HALF_FORMAT (the module then joins that library instead of
 *   lib/input-float32.wgsl);
 * - `gradInPlace`: lib/row-gradient.wgsl's GRAD_IN_PLACE, from the RowVariant too.
 * - `half`: lib/input-half.wgsl's HALF_FORMAT and binary.wgsl's HALF_GRAD, from a HalfVariant.
 * - `halfFormat`: lib/input-half.wgsl's HALF_FORMAT alone, from a HalfFormatVariant.
 * - `matmul`: matmul.wgsl's A_TRANSPOSED, B_TRANSPOSED, ACCUMULATE, HAS_BIAS, A_STORAGE and
 *   B_STORAGE, and for 16-bit operands lib/input-half.wgsl's HALF_FORMAT, from a MatmulVariant.
 * `constants` are fixed values of others (lib/row-scan-vec4.wgsl's MASKED_WALK).
 */
export interface KernelDescription {
  readonly module: ShaderModuleName;
  readonly entryPoint: string;
  readonly overrides: readonly ('row' | 'gradInPlace' | 'half' | 'halfFormat' | 'matmul')[];
  readonly constants?: Readonly<Record<string, number>>;
  /** One workgroup is one subgroup: `workgroup_size` is the device's subgroup size. */
  readonly subgroupWorkgroup?: boolean;
  readonly bindings: Readonly<Record<string, BindingKind>>;
}

const U = 'uniform';
const R = 'read-only-storage';
const W = 'storage';

// Each kernel lists the bindings its entry point uses (8 storage buffers at most, WebGPU's default).
const STATS = { params: U, logits: R, class_target: R, target_probability: R, weight: R, partials: W } as const;
const GRAD = { params: U, logits: R, class_target: R, target_probability: R, weight: R, row_summary: R, grad: W,
  scale_input: R } as const;
const GRAD_HALF = { params: U, logits: R, class_target: R, target_probability: R, weight: R, row_summary: R,
  grad_words: W, scale_input: R } as const;
const LOSS_GRAD = { params: U, logits: R, class_target: R, target_probability: R, weight: R, row_loss: W, status: W,
  grad: W, scale_input: R } as const;
const LOSS_SCAN = { params: U, logits: R, class_target: R, target_probability: R, weight: R, row_loss: W,
  row_weight: W, row_summary: W, status: W } as const;
const MATMUL = { params: U, a: R, b: R, bias: R, out: W } as const;
const ROW = ['row'] as const;
const ROW_GRAD = ['row', 'gradInPlace'] as const;

/**
 * The kernels:
 * - rowStats: statistics of chunks of rows, one class at a time (any layout); rowStatsVec4: four
 *   classes a step, for contiguous rows a multiple of 4 long; rowStatsUnaligned: the same for
 *   contiguous rows of other lengths (masked vec4s); rowStatsSubgroup: a subgroup per chunk,
 *   merging with subgroup operations;
 * - rowLoss: merges the chunk states into each row's loss and summary; rowLossScan: scans each
 *   one-chunk row itself (no statistics pass before it); rowLossLanes: the same for four
 *   neighbouring rows of a K-dimensional layout per invocation (vec4 lanes);
 * - rowGrad, rowGradVec4, rowGradUnaligned: the gradient from the rows' summaries, with the loads
 *   of the statistics kernels of the same name; rowGradHalfRows, rowGradHalfLanes, rowGradHalf: the
 *   same written as 16-bit values, whole words per invocation, for contiguous rows, for K-dim rows
 *   read as lanes, and for any layout; rowGradHalfTail: the last group of four elements after
 *   rowGradHalfRows, where the tensor ends inside it;
 * - rowLossGradScan, rowLossGradLanes: rowLossScan and rowLossLanes that also write the gradient of
 *   the rows they scan; rowWeights: each row's 'mean' denominator weight from its target alone,
 *   which they need reduced before they run;
 * - batchReduce: one level of the fixed-order batch sum; binary: binary cross-entropy, elementwise;
 *   binaryHalf: the same for 16-bit inputs, a word of two elements per invocation;
 * - matmul: out (+)= op(A) · op(B) (+ bias), a 4 × 4 block per invocation, for the linear head
 *   (src/gpu/matmul.ts plans it): A and B read through vec4s; matmulVec4A, matmulVec4B: only A,
 *   only B through vec4s (the other is 16-bit, or its rows, stride or offset are not multiples of
 *   4); matmulScalar: neither. The bindings `a` and `b` (their words: f32 or two 16-bit values) are
 *   also their vec4 views `a4` and `b4`;
 * - packHalf: f32 values rounded to 16-bit ones packed two per word, two words per invocation, for
 *   the linear head's 16-bit gradients (src/gpu/pack-half.ts plans it).
 */
export const KERNELS = {
  rowStats: { module: 'rowStats', entryPoint: 'main', overrides: ROW, bindings: STATS },
  rowStatsVec4: { module: 'rowStatsVec4', entryPoint: 'main', overrides: ROW, bindings: STATS },
  rowStatsUnaligned: { module: 'rowStatsVec4', entryPoint: 'main_unaligned', overrides: ROW,
    constants: { MASKED_WALK: 1 }, bindings: STATS },
  rowStatsSubgroup: { module: 'rowStatsSubgroup', entryPoint: 'main', overrides: ROW, subgroupWorkgroup: true,
    bindings: STATS },
  rowLoss: { module: 'rowLoss', entryPoint: 'main', overrides: ROW, bindings: { params: U, class_target: R,
    weight: R, partials: R, row_loss: W, row_weight: W, row_summary: W, status: W } },
  rowLossScan: { module: 'rowLoss', entryPoint: 'main_scan', overrides: ROW, bindings: LOSS_SCAN },
  rowLossLanes: { module: 'rowLoss', entryPoint: 'main_lanes', overrides: ROW, bindings: LOSS_SCAN },
  rowGrad: { module: 'rowGrad', entryPoint: 'main', overrides: ROW_GRAD, bindings: GRAD },
  rowGradVec4: { module: 'rowGrad', entryPoint: 'main_vec4', overrides: ROW_GRAD, bindings: GRAD },
  rowGradUnaligned: { module: 'rowGrad', entryPoint: 'main_unaligned', overrides: ROW_GRAD, bindings: GRAD },
  rowGradHalf: { module: 'rowGradHalf', entryPoint: 'main', overrides: ROW_GRAD, bindings: GRAD_HALF },
  rowGradHalfRows: { module: 'rowGradHalf', entryPoint: 'main_rows', overrides: ROW_GRAD, bindings: GRAD_HALF },
  rowGradHalfLanes: { module: 'rowGradHalf', entryPoint: 'main_lanes', overrides: ROW_GRAD, bindings: GRAD_HALF },
  rowGradHalfTail: { module: 'rowGradHalf', entryPoint: 'main_tail', overrides: ROW_GRAD, bindings: GRAD_HALF },
  rowLossGradScan: { module: 'rowLossGrad', entryPoint: 'main_scan', overrides: ROW_GRAD, bindings: LOSS_GRAD },
  rowLossGradLanes: { module: 'rowLossGrad', entryPoint: 'main_lanes', overrides: ROW_GRAD, bindings: LOSS_GRAD },
  rowWeights: { module: 'rowLossGrad', entryPoint: 'main_weights', overrides: ROW, bindings: { params: U,
    class_target: R, weight: R, row_weight: W } },
  batchReduce: { module: 'batchReduce', entryPoint: 'main', overrides: [], bindings: { params: U, in_loss: R,
    in_weight: R, out_loss: W, out_weight: W } },
  binary: { module: 'binary', entryPoint: 'main', overrides: [], bindings: { params: U, prediction: R, label: R,
    weight: R, pos_weight: R, grad_output: R, elem_loss: W, grad: W } },
  binaryHalf: { module: 'binary', entryPoint: 'main_half', overrides: ['half'], bindings: { params: U, logits: R,
    label: R, weight: R, pos_weight: R, grad_output: R, elem_loss: W, grad_words: W } },
  matmul: { module: 'matmul', entryPoint: 'main_vec4', overrides: ['matmul'], bindings: MATMUL },
  matmulVec4A: { module: 'matmul', entryPoint: 'main_vec4_a', overrides: ['matmul'], bindings: MATMUL },
  matmulVec4B: { module: 'matmul', entryPoint: 'main_vec4_b', overrides: ['matmul'], bindings: MATMUL },
  matmulScalar: { module: 'matmul', entryPoint: 'main_scalar', overrides: ['matmul'], bindings: MATMUL },
  packHalf: { module: 'packHalf', entryPoint: 'main', overrides: ['halfFormat'], bindings: { params: U, src: R, dst: W } },
} as const satisfies Record<string, KernelDescription>;

export type KernelName = keyof typeof KERNELS;
