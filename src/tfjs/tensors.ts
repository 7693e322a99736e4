/**
 * TF.js tensors as the library takes them: the backend they live on checked, their data handed over
 * as a GPUBuffer TF.js copies them into (`dataToGPU`, flushing TF.js's pending commands first) or,
 * for data TF.js keeps on the CPU (small tensors, WEBGPU_CPU_FORWARD), as the host array it already
 * holds; and results handed back as tensors TF.js owns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BufferUsage } from '../gpu/constants.js';
import { formatShape } from '../shape.js';
import { describeKind, isGpuBuffer } from '../tensor-data.js';

/**
 * What the adapter needs of TF.js's WebGPU backend (tfjs-backend-webgpu's WebGPUBackend, 4.2 and
 * later): its device, and its map from a tensor's data to where the data is (`resource`, a
 * GPUBuffer, or `values` on the CPU).
 */
export interface WebGpuBackend extends tf.KernelBackend {
  readonly device: GPUDevice;
  readonly tensorMap: { get(dataId: object): { resource?: unknown; values?: unknown } | undefined };
}

/** The name TF.js registered `backend` under ('webgpu'), for messages. */
export function backendName(backend: tf.KernelBackend | undefined): string {
  const named = Object.entries(tf.engine().registry).find(([, registered]) => registered === backend);
  return named ? `'${named[0]}'` : 'an unregistered backend';
}

function isGpuDevice(value: unknown): value is GPUDevice {
  const device = value as Partial<GPUDevice> | undefined;
  return typeof device?.createBuffer === 'function' && typeof device.queue?.submit === 'function';
}

/** TF.js's current backend, if it is a WebGPU backend with a device; else an Error saying what to do. */
export function currentWebGpuBackend(operation: string): WebGpuBackend {
  const backend = tf.backend() as Partial<WebGpuBackend> & tf.KernelBackend;
  if (!isGpuDevice(backend.device)) {
    throw new Error(`${operation}: TF.js's backend is ${backendName(backend)}, which has no GPUDevice (backend.device): `
      + "import '@tensorflow/tfjs-backend-webgpu' and await tf.setBackend('webgpu') first");
  }
  if (typeof backend.tensorMap?.get !== 'function') {
    throw new Error(`${operation}: TF.js's backend ${backendName(backend)} has a device but no tensorMap: this adapter `
      + 'needs @tensorflow/tfjs-backend-webgpu 4.2 or later');
  }
  return backend as WebGpuBackend;
}

/** The dtypes a tensor argument may have, by argument. */
export type TensorDtype = 'float32' | 'int32';

/**
 * Checks that `value` is a live tf.Tensor of `backend` with one of `dtypes`; the errors name the
 * argument. Nothing touches the GPU.
 */
export function checkTensor(operation: string, name: string, value: unknown, backend: WebGpuBackend,
  dtypes: readonly TensorDtype[], hint = ''): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new TypeError(`${operation}: ${name} must be a tf.Tensor, got ${describeKind(value)}${value !== null
      && typeof value === 'object' && 'dataId' in value ? ' (a tensor of another copy of @tensorflow/tfjs-core?)' : ''}`);
  }
  if (value.isDisposed) throw new Error(`${operation}: ${name} is a disposed tf.Tensor`);
  const owner = tf.engine().state.tensorInfo.get(value.dataId)?.backend;
  if (owner !== backend) {
    throw new Error(`${operation}: ${name} lives on TF.js's ${backendName(owner)} backend, but this TfjsCrossEntropy runs `
      + `on ${backendName(backend)} (its GPUDevice): make the tensor while ${backendName(backend)} is TF.js's backend`);
  }
  if (!(dtypes as readonly string[]).includes(value.dtype)) {
    throw new TypeError(`${operation}: ${name} must be a ${dtypes.join(' or ')} tensor, got ${value.dtype} `
      + `${formatShape(value.shape)}${hint}`);
  }
}

/** Whether TF.js holds the tensor's data in a GPUBuffer (else on the CPU, as values). */
export function onGpu(backend: WebGpuBackend, tensor: tf.Tensor): boolean {
  return backend.tensorMap.get(tensor.dataId)?.resource != null;
}

/**
 * A GPUBuffer's size and usage, standing in for a tensor's GPU copy while a call's arguments are
 * checked, before TF.js makes the copies: the library checks GPU data by size and usage only.
 */
export function pendingCopy(tensor: tf.Tensor): GPUBuffer {
  return {
    size: Math.max(4, tensor.size * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    label: '', mapAsync: () => Promise.reject(new Error('a stand-in, never mapped')),
  } as unknown as GPUBuffer;
}

/** A tensor's data as the call checks it: host values where TF.js has them on the CPU, else a stand-in. */
export function checkedData(backend: WebGpuBackend, tensor: tf.Tensor): GPUBuffer | Float32Array | Int32Array {
  return onGpu(backend, tensor) ? pendingCopy(tensor) : hostValues(tensor);
}

function hostValues(tensor: tf.Tensor): Float32Array | Int32Array {
  // The data is on the CPU: dataSync returns TF.js's array without touching the GPU.
  return tensor.dataSync() as Float32Array | Int32Array;
}

/** A tensor's data handed to the library, and what frees it once the library's work is submitted. */
export interface TensorData {
  readonly data: GPUBuffer | Float32Array | Int32Array;
  /** The tensor that owns the GPU copy (TF.js's dataToGPU), absent for host data. */
  readonly copy?: tf.Tensor;
}

/**
 * The tensor's data: a GPUBuffer copy made by TF.js (its pending commands submitted first, so the
 * copy is of the finished values), or the host array TF.js holds.
 */
export function tensorData(backend: WebGpuBackend, tensor: tf.Tensor): TensorData {
  if (!onGpu(backend, tensor)) return { data: hostValues(tensor) };
  const { buffer, tensorRef } = tensor.dataToGPU();
  if (!isGpuBuffer(buffer)) throw new Error('TF.js dataToGPU returned no GPUBuffer');
  return { data: buffer, copy: tensorRef };
}

/** Frees the GPU copies of `inputs` (back to TF.js's pool): after the work reading them is submitted. */
export function releaseCopies(...inputs: (TensorData | undefined)[]): void {
  for (const input of inputs) input?.copy?.dispose();
}

/**
 * A float32 tensor of `shape` holding the values of `buffer` (the library's, of exactly the
 * tensor's size: TF.js reads a buffer whole): TF.js copies them into a buffer of its own at once,
 * so `buffer` may be reused once this returns. An empty tensor is made on the host.
 */
export function tensorFromBuffer(buffer: GPUBuffer, shape: readonly number[]): tf.Tensor {
  if (shape.some((d) => d === 0)) return tf.zeros(shape as number[]);
  return tf.tensor({ buffer }, shape as number[], 'float32');
}

/** The data of a float32 tensor (checkTensor checked the dtype), typed as the library's float inputs. */
export function floatData(data: GPUBuffer | Float32Array | Int32Array): GPUBuffer | Float32Array {
  return data as GPUBuffer | Float32Array;
}
