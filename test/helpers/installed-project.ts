/**
 * A folder laid out as a project that ran `npm install webgpu-cross-entropy webgpu
 * @tensorflow/tfjs-core @tensorflow/tfjs-backend-webgpu`.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A new temporary folder whose node_modules links the package to this repository (its
 * package.json "exports" → dist/, so `npm run build` first), and `webgpu` and TF.js's core and
 * WebGPU backend (the TF.js adapter's peers) to the installed ones.
 */
export function installedProject(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(folder, 'node_modules', '@tensorflow'), { recursive: true });
  symlinkSync(root, join(folder, 'node_modules', 'webgpu-cross-entropy'), 'dir');
  for (const peer of ['webgpu', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu']) {
    symlinkSync(join(root, 'node_modules', peer), join(folder, 'node_modules', peer), 'dir');
  }
  return folder;
}
