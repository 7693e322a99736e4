/** webgpu-cross-entropy: PyTorch-exact cross-entropy on the GPU through WebGPU, with a float64 reference. */
export { CrossEntropy, type CreateOptions } from './cross-entropy.js';
export { crossEntropyReference } from './reference.js';
export {
  compareArrays, compareWithReference, describeComparison, reducedLossTolerance, TOLERANCES,
  type Comparison, type Mismatch, type ResultComparison, type Tolerance,
} from './compare.js';
export { ShaderCompilationError } from './gpu/pipelines.js';
export { DEFAULTS } from './options.js';
export type {
  CrossEntropyOptions, ForwardResult, InputKind, LogitsInput, LossOf, Reduction, ReferenceOptions,
  ReferenceResult, TargetInput, Tensor,
} from './types.js';
