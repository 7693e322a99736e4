/**
 * The built package in plain Node: `npm run build` output (dist/index.js + dist/index.d.ts) is
 * imported by name from a child `node` process, with a device from the `webgpu` package.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { requireDevice } from '../helpers/webgpu-node.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);
const device = await requireDevice();

describe('the built package', () => {
  it('has dist/index.js and dist/index.d.ts, named by package.json exports', () => {
    expect(existsSync(new URL('dist/index.js', root)), 'run `npm run build` first').toBe(true);
    expect(existsSync(new URL('dist/index.d.ts', root))).toBe(true);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    // "default" serves import and require() alike (Node's require(esm)): see package.test.ts.
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    const types = readFileSync(new URL('dist/index.d.ts', root), 'utf8');
    expect(types).toMatch(/CrossEntropy/);
    expect(types).toMatch(/crossEntropyReference/);
  });

  it('has the TF.js adapter at webgpu-cross-entropy/tfjs, which alone imports TF.js', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(pkg.exports['./tfjs']).toEqual({ types: './dist/tfjs/index.d.ts', default: './dist/tfjs/index.js' });
    const adapter = readFileSync(new URL('dist/tfjs/index.js', root), 'utf8');
    const imports = [...adapter.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]).sort();
    expect(imports).toEqual(['../index.js', '@tensorflow/tfjs-core']);
    expect(readFileSync(new URL('dist/index.js', root), 'utf8')).not.toMatch(/@tensorflow/);
  });

  it('inlines the shaders (no ?raw import left for plain Node)', () => {
    const code = readFileSync(new URL('dist/index.js', root), 'utf8');
    expect(code).not.toMatch(/^import .*\?raw/m);
    expect(code).not.toMatch(/^import /m);
    expect(code).toMatch(/fn main/);
  });

  it.skipIf(!device)('computes a loss in plain Node', async () => {
    const { stdout } = await run(process.execPath, ['test/dist/smoke.mjs'], { cwd: root, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(Math.abs(result.seeds - 0.35667494393873245)).toBeLessThan(1e-6);
    expect(Math.abs(result.batch - result.reference) / result.reference).toBeLessThan(1e-5);
  });
});
