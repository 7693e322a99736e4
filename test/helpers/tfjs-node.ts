/**
 * TF.js's WebGPU backend in Node, on the tests' Dawn device (the `webgpu` package): its globals
 * (GPUBufferUsage, GPUBuffer, … which TF.js reads) and `navigator.gpu` installed, and the backend
 * registered on the given device instead of one of its own. The tests import TF.js's ES modules
 * (vitest.config.ts inlines @tensorflow), so `register_all_gradients` registers into the same
 * engine as the ops.
 */
import { create, globals } from 'webgpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

let installed = false;

function installGlobals(): void {
  if (installed) return;
  installed = true;
  Object.assign(globalThis, globals);
  const host = globalThis as { navigator?: { gpu?: GPU } };
  // TF.js's backend requires navigator.gpu to exist; it never requests an adapter from it here.
  if (host.navigator?.gpu === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { ...host.navigator, gpu: create([]) }, configurable: true });
  }
}

/** Makes TF.js's 'webgpu' backend run on `device` and selects it. */
export async function useTfjsWebGpu(device: GPUDevice): Promise<typeof tf> {
  installGlobals();
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, { vendor: '', architecture: '' } as GPUAdapterInfo));
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its webgpu backend');
  return tf;
}
