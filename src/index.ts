/// <reference types="@webgpu/types" preserve="true" />
/**
 * webgpu-cross-entropy: PyTorch-exact cross-entropy on the GPU through WebGPU, with a float64 reference.
 * The reference above stays in dist/index.d.ts, so a TypeScript consumer gets the WebGPU types
 * (a dependency) without naming them in its own `types`.
 */
export { CrossEntropy, type CreateOptions } from './cross-entropy.js';
export { crossEntropyReference } from './reference.js';
export { linearCrossEntropyReference, type LinearReferenceInput, type LinearReferenceOptions,
  type LinearReferenceResult } from './linear-reference.js';
export { DEFAULT_MEMORY_BUDGET } from './linear-plan.js';
export { decodeHalf, encodeHalf, type HalfDtype } from './half-precision.js';
export { binaryCrossEntropyReference, type BinaryOptions } from './binary.js';
export {
  lossFromRowStatistics, mergeRowStatistics, RowTarget,
  type RowStatistics, type RowStatisticsLossOptions, type RowStatisticsOptions,
} from './row-statistics.js';
export {
  compareArrays, compareWithReference, describeComparison, reducedLossTolerance, TOLERANCES,
  type Comparison, type Mismatch, type ResultComparison, type Tolerance,
} from './compare.js';
export { ShaderCompilationError } from './gpu/pipelines.js';
export { WebGpuError, type GpuErrorKind } from './gpu/error-scopes.js';
export type { GpuMemory } from './gpu/memory-ledger.js';
export { DEFAULTS } from './options.js';
export type {
  CrossEntropyOptions, Dtype, Float16ArrayLike, ForwardResult, GradData, GradDtypeOf, LogitsData, GpuForwardOptions, GpuForwardResult, InputKind, LogitsInput, LossOf, Reduction, ReferenceOptions,
  ReferenceResult, TargetInput, Tensor, GpuLinearOptions, GpuLinearResult, LinearGradBuffers, LinearGradData,
  LinearGradRequest, LinearInput, LinearOptions, LinearResult,
} from './types.js';
