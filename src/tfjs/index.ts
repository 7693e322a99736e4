/// <reference types="@webgpu/types" preserve="true" />
/**
 * webgpu-cross-entropy/tfjs: this library's losses inside TensorFlow.js training, on TF.js's WebGPU
 * backend and its own GPU buffers. @tensorflow/tfjs-core and @tensorflow/tfjs-backend-webgpu are
 * optional peer dependencies, imported by this entry only.
 */
export {
  TfjsCrossEntropy, type TfjsCreateOptions, type TfjsLossFunction,
} from './tfjs-cross-entropy.js';
export type { TfjsBinaryOptions, TfjsCrossEntropyOptions, TfjsLinearOptions } from './options.js';
export type { GpuMemory } from '../gpu/memory-ledger.js';
