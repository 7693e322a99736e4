/**
 * The documentation as a reader meets it. Every relative link in README.md and docs/ leads to a file
 * of this repository (and a `#fragment` to a heading of that page); no tracked file mentions files
 * that are not in the repository; and the code blocks marked runnable (```js runnable-node,
 * ```html runnable-browser) run as written: in Node from a project folder whose node_modules holds
 * this package (its built dist/) and `webgpu`, and in headless Chromium from that folder served by
 * a plain file server. Each must print what its `// prints:` comments say.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import puppeteer, { type Browser } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/browser.js';
import { installedProject } from '../helpers/installed-project.js';
import { headingAnchors, markdownLinks, runnableBlocks, type RunnableBlock } from '../helpers/markdown.js';
import { serveFolder, type ServedFolder } from '../helpers/serve-folder.js';
import { inCI, requireDevice } from '../helpers/webgpu-node.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const device = await requireDevice();

/** README.md and every Markdown file under docs/, as repository paths. */
const PAGES = ['README.md', ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
  .filter((path) => path.endsWith('.md'))
  .map((path) => `docs/${path.split(sep).join('/')}`)
  .sort()];

/** Names of files that live outside this repository; spelled in pieces so this file does not match. */
const OUTSIDE = ['DESIGN' + '.md', '..' + '/shared'];

/** What is wrong with the relative links of one page, one line per broken link. */
function linkProblems(page: string, text: string): string[] {
  const problems: string[] = [];
  for (const { target, line } of markdownLinks(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const where = `${page}:${line}: ${target}`;
    const [path = '', fragment] = target.split('#', 2);
    if (path.startsWith('/')) {
      problems.push(`${where}: not relative`);
      continue;
    }
    const file = path === '' ? join(root, page) : resolve(root, dirname(page), decodeURIComponent(path));
    if (relative(root, file).startsWith('..')) {
      problems.push(`${where}: outside the repository`);
    } else if (!existsSync(file)) {
      problems.push(`${where}: no such file`);
    } else if (fragment !== undefined) {
      if (!file.endsWith('.md')) problems.push(`${where}: a fragment on a file that is not Markdown`);
      else if (!headingAnchors(readFileSync(file, 'utf8')).has(fragment)) problems.push(`${where}: no such heading`);
    }
  }
  return problems;
}

describe('links in README.md and docs/', () => {
  it('finds the pages', () => {
    expect(PAGES).toContain('README.md');
    expect(PAGES).toContain('docs/README.md');
  });

  it.each(PAGES)('%s: every relative link resolves', (page) => {
    expect(linkProblems(page, read(page))).toEqual([]);
  });

  it('the check reports a missing file, a missing heading and a path out of the repository', () => {
    const text = '[ok](semantics.md#the-loss) [a](no-such-page.md) [b](semantics.md#no-such-heading)\n'
      + '`[in code](ignored.md)`\n```\n[in a block](ignored.md)\n```\n[c](../../elsewhere/file.md)';
    expect(linkProblems('docs/example.md', text)).toEqual([
      'docs/example.md:1: no-such-page.md: no such file',
      'docs/example.md:1: semantics.md#no-such-heading: no such heading',
      'docs/example.md:6: ../../elsewhere/file.md: outside the repository',
    ]);
  });
});

describe('files outside the repository', () => {
  it('no tracked file (nor any page of the docs) mentions them', async () => {
    const { stdout } = await run('git', ['ls-files', '-z'], { cwd: root, maxBuffer: 64 << 20 });
    const files = new Set([...stdout.split('\0').filter(Boolean), ...PAGES]);
    const mentions: string[] = [];
    for (const file of files) {
      if (!existsSync(join(root, file))) continue;
      readFileSync(join(root, file), 'latin1').split('\n').forEach((line, index) => {
        for (const name of OUTSIDE) if (line.includes(name)) mentions.push(`${file}:${index + 1}: ${name}`);
      });
    }
    expect(mentions).toEqual([]);
  });
});

interface NamedBlock extends RunnableBlock {
  readonly name: string;
}

const BLOCKS: NamedBlock[] = PAGES.flatMap((page) =>
  runnableBlocks(read(page)).map((block) => ({ ...block, name: `${page}:${block.line}` })));
const nodeBlocks = BLOCKS.filter((b) => b.kind === 'node');
const browserBlocks = BLOCKS.filter((b) => b.kind === 'browser');

describe('runnable examples', () => {
  let project: string;
  beforeAll(() => {
    project = installedProject('docs-examples-');
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('README.md has one for the browser and one for Node, each printing something', () => {
    const readme = BLOCKS.filter((b) => b.name.startsWith('README.md:'));
    expect(readme.map((b) => b.kind).sort()).toEqual(['browser', 'node']);
    for (const block of readme) expect(block.prints.length, block.name).toBeGreaterThan(0);
  });

  it('dist/ is built (npm test builds it first)', () => {
    expect(existsSync(join(root, 'dist', 'index.js')), 'run `npm run build` first').toBe(true);
  });

  describe('in Node', () => {
    it.skipIf(!device).for(nodeBlocks.map((block, index) => ({ ...block, index })))('$name', async (block) => {
      const file = join(project, `example-${block.index}.mjs`);
      writeFileSync(file, block.code);
      const result = await run(process.execPath, [file], { cwd: project, timeout: 60_000 })
        .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
        .catch((error: { code?: number; stdout?: string; stderr?: string }) =>
          ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
      expect(result.code, `${block.name} exited with ${result.code}:\n${result.stderr}${result.stdout}`).toBe(0);
      expect(result.stdout.trimEnd().split('\n').filter((line) => line !== ''), block.name).toEqual(block.prints);
    });
  });

  const hasChromium = chromiumPath() !== undefined;
  if (!hasChromium && inCI) throw new Error('Chromium is required under CI (apt-get install chromium)');

  describe.skipIf(!hasChromium)('in headless Chromium', () => {
    let browser: Browser;
    let server: ServedFolder;
    let hasAdapter = false;

    beforeAll(async () => {
      server = await serveFolder(project);
      browser = await puppeteer.launch({ executablePath: chromiumPath()!, headless: true, args: [...CHROMIUM_ARGS] });
      writeFileSync(join(project, 'probe.html'), '<!doctype html><title>probe</title>');
      const page = await browser.newPage();
      await page.goto(`${server.url}probe.html`);
      hasAdapter = await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) != null);
      await page.close();
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it.for(browserBlocks.map((block, index) => ({ ...block, index })))('$name', async (block, { skip }) => {
      if (!hasAdapter && !inCI) skip('no WebGPU adapter in this Chromium');
      expect(hasAdapter, 'navigator.gpu.requestAdapter() returned null').toBe(true);
      expect(block.prints.length, 'a browser example needs a // prints: comment to wait for').toBeGreaterThan(0);
      writeFileSync(join(project, `example-${block.index}.html`), block.code);
      const page = await browser.newPage();
      const logs: string[] = [];
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'log') logs.push(message.text());
        const favicon = message.location().url?.endsWith('/favicon.ico') === true;
        if (message.type() === 'error' && !favicon) errors.push(`console.error: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`page error: ${String(error)}`));
      page.on('response', (response) => {
        if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
          errors.push(`HTTP ${response.status()}: ${response.url()}`);
        }
      });
      try {
        await page.goto(`${server.url}example-${block.index}.html`);
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && logs.length < block.prints.length && errors.length === 0) {
          await new Promise((done) => setTimeout(done, 50));
        }
        await new Promise((done) => setTimeout(done, 250)); // errors raised just after the last print
        expect(errors, block.name).toEqual([]);
        expect(logs, block.name).toEqual(block.prints);
      } finally {
        await page.close();
      }
    });
  });
});
