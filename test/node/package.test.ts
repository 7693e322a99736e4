/**
 * The package as a user installs it: `npm pack` of the built dist/ holds only what a user needs;
 * installed with `npm install <tarball>` into a fresh project, a TypeScript consumer compiles under
 * `strict` with no `types` setting of its own, and its ESM (import) and CommonJS (require) builds
 * run in Node. Nothing is downloaded: the package's one dependency, @webgpu/types, is copied into
 * the project first from this repository's node_modules (npm keeps it, as it satisfies the range),
 * and the optional peer `webgpu` is linked in afterwards, as `npm install webgpu` would add it.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireDevice } from '../helpers/webgpu-node.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
// Sets VK_ICD_FILENAMES (SwiftShader) in this process's environment where needed; children inherit it.
const device = await requireDevice();

/** The consumer, as ESM: top-level await, the result's types narrowed by the options. */
const CONSUMER_ESM = `import { CrossEntropy, compareWithReference, crossEntropyReference, describeComparison } from 'webgpu-cross-entropy';

const logits = { data: new Float32Array([2, 1, 0.1, 0.5, 2.5, 0.3]), shape: [2, 3] };
const target = { data: new Int32Array([0, 1]), shape: [2] };
const ce = await CrossEntropy.create();
const device: GPUDevice = ce.device;
const { loss, grad } = await ce.forward(logits, target, { grad: true });
const lossValue: number = loss;
const firstGrad: number = grad[0];
const check = compareWithReference({ loss, grad }, crossEntropyReference(logits, target, { grad: true }));
console.log(JSON.stringify({ module: 'esm', loss: lossValue, firstGrad, ok: check.ok, label: device.label,
  summary: describeComparison(check) }));
ce.destroy();
`;

/** The consumer, as CommonJS: compiled to require(), which loads the ESM package (Node's require(esm)). */
const CONSUMER_CJS = `import { CrossEntropy, crossEntropyReference } from 'webgpu-cross-entropy';

async function main(): Promise<void> {
  const logits = { data: new Float32Array([2, 1, 0.1, 0.5, 2.5, 0.3]), shape: [2, 3] };
  const target = { data: new Int32Array([0, 1]), shape: [2] };
  const ce = await CrossEntropy.create();
  const { loss } = await ce.forward(logits, target, { reduction: 'none' });
  const rows: Float32Array = loss;
  const reference = crossEntropyReference(logits, target, { reduction: 'none' }).loss;
  console.log(JSON.stringify({ module: 'cjs', loss: Array.from(rows), reference: Array.from(reference as Float64Array) }));
  ce.destroy();
}

// A rejection left unhandled ends Node with exit code 1.
void main();
`;

/** A typed use of the TF.js adapter (compiled, not run: it needs TF.js's WebGPU backend). */
const CONSUMER_TFJS = `import * as tf from '@tensorflow/tfjs-core';
import { TfjsCrossEntropy, type TfjsCrossEntropyOptions } from 'webgpu-cross-entropy/tfjs';

const losses = await TfjsCrossEntropy.create({ onError: (error: Error) => console.error(error.message) });
const options: TfjsCrossEntropyOptions = { labelSmoothing: 0.1, weight: tf.ones([3]), reduction: 'none' };
const loss: tf.Tensor = losses.crossEntropy(tf.zeros([2, 3]), tf.tensor1d([0, 1], 'int32'), options);
const compiled: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor = losses.lossFunction();
console.log(loss.shape, compiled, losses.gpuMemory().bytes);
await losses.settled();
`;

const TSCONFIG = {
  compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', outDir: 'out', skipLibCheck: false },
  files: ['consumer.mts', 'consumer.cts'],
};

describe('the packed package, installed', () => {
  let folder: string;
  let files: string[];
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'package-test-'));
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', folder], { cwd: root });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((f) => f.path).sort();
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    cpSync(join(root, 'node_modules', '@webgpu', 'types'), join(folder, 'node_modules', '@webgpu', 'types'),
      { recursive: true });
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(folder, packed!.filename)],
      { cwd: folder, timeout: 120_000 });
    // The optional peer, as `npm install webgpu` would add it.
    symlinkSync(join(root, 'node_modules', 'webgpu'), join(folder, 'node_modules', 'webgpu'), 'dir');
    writeFileSync(join(folder, 'consumer.mts'), CONSUMER_ESM);
    writeFileSync(join(folder, 'consumer.cts'), CONSUMER_CJS);
    writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  });
  afterAll(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('holds dist (code and declarations, no source maps), README.md, LICENSE and package.json only', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/tfjs/index.js');
    expect(files).toContain('dist/tfjs/index.d.ts');
    const bundles = ['dist/index.js', 'dist/tfjs/index.js'];
    const other = files.filter((path) => !/^dist\/(.+\/)?[\w-]+\.d\.ts$/.test(path) && !bundles.includes(path));
    expect(other).toEqual(['LICENSE', 'README.md', 'package.json']);
    // Nor a pointer to one: a source map URL to a missing file makes tools warn.
    const code = readFileSync(join(folder, 'node_modules', 'webgpu-cross-entropy', 'dist', 'index.js'), 'utf8');
    expect(code).not.toMatch(/sourceMappingURL/);
  });

  it('depends on @webgpu/types, which its declarations name, and takes webgpu and TF.js as optional peers', () => {
    const installed = JSON.parse(readFileSync(join(folder, 'node_modules', 'webgpu-cross-entropy', 'package.json'), 'utf8'));
    expect(Object.keys(installed.dependencies)).toEqual(['@webgpu/types']);
    expect(Object.keys(installed.peerDependencies).sort())
      .toEqual(['@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-core', 'webgpu']);
    expect(installed.peerDependenciesMeta).toEqual({ webgpu: { optional: true },
      '@tensorflow/tfjs-core': { optional: true }, '@tensorflow/tfjs-backend-webgpu': { optional: true } });
    // The optional peers stay optional: installing the package installed neither.
    expect(existsSync(join(folder, 'node_modules', '@tensorflow'))).toBe(false);
    const types = readFileSync(join(folder, 'node_modules', 'webgpu-cross-entropy', 'dist', 'index.d.ts'), 'utf8');
    expect(types.split('\n')[0]).toBe('/// <reference types="@webgpu/types" preserve="true" />');
  });

  it('compiles a strict TypeScript consumer, ESM and CommonJS, with no types setting', async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const compiled = await run(process.execPath, [tsc, '-p', folder], { cwd: folder }).then(
      () => '', (error: { stdout?: string }) => error.stdout ?? String(error));
    expect(compiled).toBe('');
  });

  it('compiles a strict TypeScript consumer of webgpu-cross-entropy/tfjs, with TF.js installed', async () => {
    // As `npm install @tensorflow/tfjs-core` would add it; skipLibCheck as TF.js's own declarations need
    // (their @webgpu/types and Long do not compile under a strict check of libraries).
    mkdirSync(join(folder, 'node_modules', '@tensorflow'), { recursive: true });
    symlinkSync(join(root, 'node_modules', '@tensorflow', 'tfjs-core'), join(folder, 'node_modules', '@tensorflow', 'tfjs-core'),
      'dir');
    writeFileSync(join(folder, 'adapter.mts'), CONSUMER_TFJS);
    writeFileSync(join(folder, 'tsconfig.tfjs.json'), JSON.stringify({
      compilerOptions: { ...TSCONFIG.compilerOptions, noEmit: true, skipLibCheck: true }, files: ['adapter.mts'] }));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const compiled = await run(process.execPath, [tsc, '-p', join(folder, 'tsconfig.tfjs.json')], { cwd: folder }).then(
      () => '', (error: { stdout?: string }) => error.stdout ?? String(error));
    expect(compiled).toBe('');
  });

  it('loads with require(), which Node refuses for a module graph with top-level await', async () => {
    const { stdout, stderr } = await run(process.execPath, ['-e', "const m = require('webgpu-cross-entropy'); "
      + 'console.log(typeof m.CrossEntropy.create, m.crossEntropyReference({ data: new Float32Array([0, 0]), shape: [2] }, '
      + '{ data: new Int32Array([1]), shape: [] }).loss)'], { cwd: folder });
    expect(stdout.trim()).toBe(`function ${Math.log(2)}`);
    expect(stderr).not.toMatch(/ExperimentalWarning/);
  });

  it.skipIf(!device)('runs the ESM consumer: import', async () => {
    const { stdout } = await run(process.execPath, [join(folder, 'out', 'consumer.mjs')], { cwd: folder, timeout: 60_000 });
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({ module: 'esm', ok: true, label: 'cross-entropy' });
    expect(result.loss).toBeCloseTo(0.31854, 5);
  });

  it.skipIf(!device)('runs the CommonJS consumer: require()', async () => {
    const output = join(folder, 'out', 'consumer.cjs');
    const { stdout, stderr } = await run(process.execPath, [output], { cwd: folder, timeout: 60_000 });
    const result = JSON.parse(stdout.trim());
    expect(result.module).toBe('cjs');
    expect(result.loss).toHaveLength(2);
    result.loss.forEach((loss: number, row: number) => expect(loss).toBeCloseTo(result.reference[row], 5));
    // Node loads the ESM package through require() without calling it experimental.
    expect(stderr).not.toMatch(/ExperimentalWarning/);
  });
});
