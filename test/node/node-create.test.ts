/**
 * CrossEntropy.create() without a device in plain Node, through the built dist/ and the `webgpu`
 * package: README.md's Node example, run as written 20 times in fresh processes with garbage
 * collected after each of its statements (Dawn aborts a process whose `GPU` object is collected
 * while its devices live); create() again and again in one process; and the errors that say what to
 * install or set when there is no `webgpu` package or no adapter.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithReference, describeComparison } from '../../src/index.js';
import { installedProject } from '../helpers/installed-project.js';
import { runnableBlocks } from '../helpers/markdown.js';
import { requireDevice } from '../helpers/webgpu-node.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Sets VK_ICD_FILENAMES (SwiftShader) in this process's environment where needed; children inherit it.
const device = await requireDevice();

const RUNS = 20;
/** SwiftShader shares the machine's few cores: two processes at a time. */
const AT_ONCE = 2;

interface Outcome {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node args` in `cwd`, resolving with how it ended (a crash is an outcome, not a rejection). */
function runNode(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number | string; signal?: string }) | null;
      resolve({
        code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
        signal: failure?.signal ?? null,
        stdout,
        stderr,
      });
    });
  });
}

/** What went wrong in a run, for an assertion's message. */
function describeOutcome(outcome: Outcome): string {
  return `exit ${outcome.code}, signal ${outcome.signal}; stdout: ${outcome.stdout.trim()}; stderr: `
    + `${outcome.stderr.trim().split('\n').slice(-4).join(' | ')}`;
}

/**
 * The example with a forced collection after every statement (a line ending in `;`, before any
 * comment) and a few more, with pauses, once it has finished: after create(), after forward(),
 * after destroy() while `ce` is still in scope.
 */
function withCollections(code: string): string {
  const lines = code.split('\n').map((line) => line.replace(/;(\s*\/\/.*)?$/, '; globalThis.gc();$1'));
  return `${lines.join('\n')}\nfor (let i = 0; i < 3; i++) {\n  globalThis.gc();\n`
    + '  await new Promise((resolve) => setTimeout(resolve, 10));\n}\n';
}

const readmeNode = runnableBlocks(readFileSync(join(root, 'README.md'), 'utf8')).filter((b) => b.kind === 'node');

describe('CrossEntropy.create() without a device, in plain Node', () => {
  let project: string;
  beforeAll(() => {
    project = installedProject('node-create-');
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('README.md has one Node example, and it creates without a device', () => {
    expect(readmeNode).toHaveLength(1);
    expect(readmeNode[0]!.code).toMatch(/CrossEntropy\.create\(\)/);
    expect(readmeNode[0]!.prints.length).toBeGreaterThan(0);
  });

  it('collections are forced after each statement', () => {
    expect(withCollections('const a = 1; // one\nf(\n  2,\n);\n')).toBe('const a = 1; globalThis.gc(); // one\nf(\n  2,\n); '
      + 'globalThis.gc();\n\nfor (let i = 0; i < 3; i++) {\n  globalThis.gc();\n'
      + '  await new Promise((resolve) => setTimeout(resolve, 10));\n}\n');
  });

  it.skipIf(!device)(`runs README.md's Node example ${RUNS} of ${RUNS} times with garbage collected throughout`, async () => {
    const block = readmeNode[0]!;
    const file = join(project, 'readme-example.mjs');
    writeFileSync(file, withCollections(block.code));
    const outcomes: Outcome[] = [];
    for (let started = 0; started < RUNS; started += AT_ONCE) {
      const batch = Array.from({ length: Math.min(AT_ONCE, RUNS - started) },
        () => runNode(['--expose-gc', file], project));
      outcomes.push(...await Promise.all(batch));
    }
    const failed = outcomes.map((o, i) => ({ o, i })).filter(({ o }) => o.code !== 0);
    expect(failed.map(({ o, i }) => `run ${i}: ${describeOutcome(o)}`)).toEqual([]);
    for (const outcome of outcomes) expect(outcome.stdout.trimEnd().split('\n')).toEqual(block.prints);
  });

  it.skipIf(!device)('creates, computes and destroys again and again in one process, collected between', async () => {
    const outcome = await runNode(['--expose-gc', join(root, 'test/dist/create-loop.mjs')], project);
    expect(outcome.code, describeOutcome(outcome)).toBe(0);
    const { losses, reference, keptDeviceLost } = JSON.parse(outcome.stdout.trim().split('\n').pop()!);
    expect(losses).toHaveLength(3);
    for (const loss of losses) {
      const check = compareWithReference({ loss }, reference);
      expect(check.ok, describeComparison(check)).toBe(true);
    }
    expect(keptDeviceLost).toBe('destroyed');
  });

  it.skipIf(!device)('without an adapter, says to set VK_ICD_FILENAMES or pass a device', async () => {
    const code = "import { CrossEntropy } from 'webgpu-cross-entropy';\n"
      + 'await CrossEntropy.create().then(() => console.log("created"), (error) => console.log(error.message));\n';
    const file = join(project, 'no-adapter.mjs');
    writeFileSync(file, code);
    const outcome = await runNode([file], project, { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(outcome.code, describeOutcome(outcome)).toBe(0);
    expect(outcome.stdout.trim()).toBe('CrossEntropy.create: the `webgpu` package found no GPU adapter. On Linux '
      + 'without a GPU, point the Vulkan loader at a software driver such as Chromium\'s SwiftShader: '
      + 'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (it needs libvulkan1); or pass { device }');
  });

  it('without the `webgpu` package, says to install it or pass a device', async () => {
    // A real copy of the package, so that `webgpu` is looked for beside it and not in this repository.
    const bare = mkdtempSync(join(tmpdir(), 'node-create-bare-'));
    try {
      const installed = join(bare, 'node_modules', 'webgpu-cross-entropy');
      mkdirSync(installed, { recursive: true });
      cpSync(join(root, 'package.json'), join(installed, 'package.json'));
      cpSync(join(root, 'dist'), join(installed, 'dist'), { recursive: true });
      const file = join(bare, 'no-webgpu.mjs');
      writeFileSync(file, "import { CrossEntropy } from 'webgpu-cross-entropy';\n"
        + 'await CrossEntropy.create().then(() => console.log("created"), (error) => console.log(error.message, '
        + 'error.cause?.code));\n');
      const outcome = await runNode([file], bare);
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(outcome.stdout.trim()).toBe('CrossEntropy.create: this Node has no WebGPU of its own and the `webgpu` '
        + 'package (Dawn for Node, an optional peer dependency) could not be imported: `npm install webgpu`, or pass '
        + '{ device } ERR_MODULE_NOT_FOUND');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
