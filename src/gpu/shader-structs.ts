/**
 * The structs the row kernels, batch-reduce, binary, matmul and pack-half share with the host, one description each
 * (see wgsl-struct.ts). The comments on their fields live with the WGSL declarations.
 */
import { defineStruct } from './wgsl-struct.js';

/** lib/row-common.wgsl `Params`: the uniform block of every row kernel. */
export const ROW_PARAMS = defineStruct('Params', {
  rows: 'u32',
  classes: 'u32',
  inner: 'u32',
  chunks: 'u32',
  chunk_len: 'u32',
  ignore_index: 'i32',
  label_smoothing: 'f32',
  class_offset: 'i32',
  sharded: 'u32',
  softcap: 'f32',
  z_loss: 'f32',
  reduction: 'u32',
  has_grad_output: 'u32',
  first_row: 'u32',
});

/** lib/row-common.wgsl `RowState`: a chunk's softmax state, from row-stats to row-loss. */
export const ROW_STATE = defineStruct('RowState', {
  max_value: 'f32',
  excess_exp: 'f32',
  smooth_dist: 'f32',
  smooth_mass: 'f32',
  target_dist: 'f32',
  target_mass: 'f32',
  target_logit: 'f32',
  smooth_mass_error: 'f32',
  target_mass_error: 'f32',
});

/** lib/row-common.wgsl `RowSummary`: a whole row's statistics, for the gradient and row statistics. */
export const ROW_SUMMARY = defineStruct('RowSummary', {
  max_value: 'f32',
  log_norm: 'f32',
  smooth_dist: 'f32',
  smooth_mass: 'f32',
  target_dist: 'f32',
  target_mass: 'f32',
  target_logit: 'f32',
  target_weight: 'f32',
  kind: 'u32',
  excess_exp: 'f32',
  mass_error: 'f32',
});

/** lib/row-finish.wgsl `Status`: bad class indices found by the loss kernels (atomics). */
export const STATUS = defineStruct('Status', {
  bad_target_count: 'u32',
  first_bad_row: 'u32',
});

/** batch-reduce.wgsl `Params`: one level of the batch reduction. */
export const REDUCE_PARAMS = defineStruct('Params', {
  count: 'u32',
  chunk: 'u32',
  divide: 'u32',
  denominator: 'f32',
});

/** binary.wgsl `Params`. */
export const BINARY_PARAMS = defineStruct('Params', {
  count: 'u32',
  input_kind: 'u32',
  has_weight: 'u32',
  weight_len: 'u32',
  has_pos_weight: 'u32',
  pos_weight_len: 'u32',
  has_grad_output: 'u32',
  want_grad: 'u32',
  in_place: 'u32',
  grad_scale: 'f32',
});

/** matmul.wgsl `MatmulParams`: one product's shape, and where its operands start and their row strides. */
export const MATMUL_PARAMS = defineStruct('MatmulParams', {
  m: 'u32',
  p: 'u32',
  k: 'u32',
  blocks_p: 'u32',
  a_offset: 'u32',
  b_offset: 'u32',
  bias_offset: 'u32',
  out_offset: 'u32',
  a_stride: 'u32',
  b_stride: 'u32',
  out_stride: 'u32',
  split_k: 'u32',
  splits: 'u32',
  out_split_step: 'u32',
});

/** pack-half.wgsl `PackParams`: how many values, and where they start in each buffer. */
export const PACK_HALF_PARAMS = defineStruct('PackParams', {
  count: 'u32',
  src_offset: 'u32',
  dst_offset: 'u32',
  pairs: 'u32',
});
