// Runs in every test worker: destroys the shared Node WebGPU device after the file's tests, so Dawn
// shuts down cleanly instead of being torn down mid-flight at process exit.
import { afterAll } from 'vitest';
import { releaseNodeDevice } from './helpers/webgpu-node.js';

afterAll(async () => {
  await releaseNodeDevice();
});
