/** A folder laid out as a project that ran `npm install webgpu-cross-entropy webgpu`. */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A new temporary folder whose node_modules links the package to this repository (its
 * package.json "exports" → dist/, so `npm run build` first) and `webgpu` to the installed one.
 */
export function installedProject(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(folder, 'node_modules'));
  symlinkSync(root, join(folder, 'node_modules', 'webgpu-cross-entropy'), 'dir');
  symlinkSync(join(root, 'node_modules', 'webgpu'), join(folder, 'node_modules', 'webgpu'), 'dir');
  return folder;
}
