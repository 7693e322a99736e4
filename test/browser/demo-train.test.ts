/**
 * The demo page's Train view in headless Chromium, used as a person would: the digits load only when
 * the view opens; two epochs at the default batch size and learning rate (with a pause and a resume
 * on the way) reach a test accuracy of at least 0.88 with a falling loss; a digit drawn with the mouse
 * gets ten probabilities summing to 1 and a cross-entropy of −log p of the class chosen; Reset; the
 * view without WebGPU; the static build, whose entry chunk holds no digits. Screenshots (1280 px
 * wide) go to test/artifacts/demo-train-*.png.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HTTPRequest, Page } from 'puppeteer';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNumber } from '../../demo/format.js';
import { chromiumPath, openBrowser, type BrowserSession } from '../helpers/browser.js';
import { serveFolder } from '../helpers/serve-folder.js';
import { inCI } from '../helpers/webgpu-node.js';
import { checkedScreenshot, expectChartsDrawn } from './screenshots.js';

const VIEWPORT = { width: 1280, height: 800 };
const LOAD_TIMEOUT_MS = 120_000;
const TRAIN_TIMEOUT_MS = 300_000;
/** The loss of a model whose weights are all 0: every class 1/10. */
const LOG_10 = Math.log(10);
/** A request for a class's digits: the package's JSON file (dev server), or its copy among the built site's assets. */
const DIGITS_REQUEST = /mnist\/src\/digits\/\d\.json$|\/assets\/\d-[\w-]+\.json$/;

const hasChromium = chromiumPath() !== undefined;
if (!hasChromium && inCI) throw new Error('Chromium is required under CI (apt-get install chromium)');

type Data = Record<string, string | undefined>;

async function trainResult(page: Page): Promise<Data> {
  return page.$eval('#train-result', (e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }));
}

async function waitForState(page: Page, states: string[], timeout = LOAD_TIMEOUT_MS): Promise<Data> {
  await page.waitForFunction((s: string[]) => s.includes(document.getElementById('train-result')!.dataset.state!),
    { timeout }, states);
  return trainResult(page);
}

async function setNumber(page: Page, selector: string, value: string): Promise<void> {
  await page.click(selector, { count: 3 });
  await page.keyboard.type(value);
}

/** Strokes on the draw pad, each a list of points in the pad's own 280 × 280 pixels, drawn with the mouse. */
async function draw(page: Page, strokes: [number, number][][]): Promise<void> {
  const pad = await page.$('#train-draw');
  await pad!.scrollIntoView();
  const box = (await pad!.boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + (x / 280) * box.width, box.y + (y / 280) * box.height] as const;
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]!));
    await page.mouse.down();
    for (const point of stroke.slice(1)) await page.mouse.move(...at(point), { steps: 8 });
    await page.mouse.up();
  }
}

async function drawnResult(page: Page): Promise<{ probabilities: number[]; logits: number[]; guess: number; target: number;
  loss: number; trained: string; text: string; formula: string }> {
  const d: Data = await page.$eval('#train-draw-result', (e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }));
  expect(d.state).toBe('done');
  return { probabilities: JSON.parse(d.probabilities!), logits: JSON.parse(d.logits!), guess: Number(d.guess),
    target: Number(d.target), loss: Number(d.loss), trained: d.trained!, text: d.text!,
    formula: await page.$eval('#train-draw-formula', (e) => e.textContent ?? '') };
}

describe.skipIf(!hasChromium)('the demo page: Train view', () => {
  let session: BrowserSession;
  let page: Page;
  let hasWebGpu = false;
  const requests: string[] = [];

  beforeAll(async () => {
    session = await openBrowser();
    page = session.page;
    await page.setViewport(VIEWPORT);
    page.on('request', (request: HTTPRequest) => { requests.push(request.url()); });
    await page.goto(session.url('/'));
    await page.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: LOAD_TIMEOUT_MS });
    hasWebGpu = (await page.$eval('body', (b) => b.dataset.webgpu)) === 'true';
  }, 120_000);
  afterAll(async () => session?.close());

  it('loads the digits only when the view opens', async ({ skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    expect(requests.filter((url) => DIGITS_REQUEST.test(url))).toEqual([]);
    expect(await trainResult(page)).toMatchObject({ state: 'idle' });
    await page.click('#tab-train');
    const d = await waitForState(page, ['ready', 'error']);
    expect(d.state, await page.$eval('#train-status', (e) => e.textContent)).toBe('ready');
    expect(requests.filter((url) => DIGITS_REQUEST.test(url))).toHaveLength(10);
    expect(await page.$eval('#train-status', (e) => e.textContent)).toMatch(/^8\u2009000 training and 2\u2009000 test digits loaded/);
    expect(await page.$eval('#train-settings-hint', (e) => e.textContent)).toContain('125 steps of 64 digits an epoch');
  });

  it('trains two epochs at batch 64, learning rate 0.5: test accuracy ≥ 0.88, the loss falls; pause and resume on the way',
    async ({ skip }) => {
      if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
      expect(await page.$eval('#train-batch', (e) => (e as HTMLInputElement).value)).toBe('64');
      expect(await page.$eval('#train-lr', (e) => (e as HTMLInputElement).value)).toBe('0.5');
      await setNumber(page, '#train-epochs', '2');
      const started = performance.now();
      await page.click('#train-start');
      await page.waitForFunction(() => {
        const { steps, state } = document.getElementById('train-result')!.dataset;
        return Number(steps) >= 40 || state === 'error';
      }, { timeout: TRAIN_TIMEOUT_MS });
      expect((await trainResult(page)).state, await page.$eval('#train-status', (e) => e.textContent)).toBe('running');
      await checkedScreenshot(page, 'demo-train-running');

      // Pause: the steps stop, the model so far is shown; then resume.
      await page.click('#train-pause');
      let d = await waitForState(page, ['paused', 'done', 'error'], TRAIN_TIMEOUT_MS);
      expect(d.state).toBe('paused');
      const pausedAt = Number(d.steps);
      expect(pausedAt).toBeLessThan(250);
      expect(await page.$eval('#train-start', (e) => e.textContent)).toBe('Resume');
      expect(await page.$$eval('#train-digits .digit', (es) => es.length)).toBe(60);
      expect(await page.$eval('#train-batch', (e) => (e as HTMLInputElement).disabled)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(Number((await trainResult(page)).steps)).toBe(pausedAt);
      await page.click('#train-start');
      d = await waitForState(page, ['done', 'error'], TRAIN_TIMEOUT_MS);
      const seconds = (performance.now() - started) / 1000;
      expect(d.state, await page.$eval('#train-status', (e) => e.textContent)).toBe('done');
      console.log(`two epochs in the page: ${seconds.toFixed(1)} s (pause included), `
        + `${Number(d.stepsPerSecond).toFixed(1)} steps/s, test accuracy ${d.accuracy}`);

      // Two epochs of 125 steps, the accuracy after each, the last at least 0.88 and shown.
      expect(d).toMatchObject({ steps: '250', epoch: '2', batchSize: '64', learningRate: '0.5' });
      const accuracies = JSON.parse(d.accuracies!) as [number, number][];
      expect(accuracies.map(([epoch]) => epoch)).toEqual([1, 2]);
      expect(accuracies[1]![1]).toBe(Number(d.accuracy));
      expect(Number(d.accuracy)).toBeGreaterThanOrEqual(0.88);
      expect(Math.abs(Number(await page.$eval('#train-accuracy', (e) => e.textContent)) - Number(d.accuracy))).toBeLessThan(5e-5);
      expect(await page.$eval('#train-progress', (e) => (e as HTMLProgressElement).value)).toBe(1);
      expect(await page.$eval('#train-start', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
      expect(Number(d.stepsPerSecond)).toBeGreaterThan(0);

      // The loss: read at step 1 (all weights 0: log 10) and every 10th step of an epoch; smoothed, it falls.
      const losses = JSON.parse(await page.$eval('#train-loss-chart', (e) => (e as HTMLElement).dataset.losses!)) as [number, number][];
      const smoothed = JSON.parse(await page.$eval('#train-loss-chart', (e) => (e as HTMLElement).dataset.smoothed!)) as [number, number][];
      expect(losses.map(([step]) => step)).toEqual([1, ...[1, 2].flatMap((e) => Array.from({ length: 12 }, (_, i) => (e - 1) * 125 + 10 * (i + 1)))]);
      expect(Math.abs(losses[0]![1] - LOG_10)).toBeLessThan(1e-5);
      expect(smoothed).toHaveLength(losses.length);
      expect(smoothed[0]![1]).toBe(losses[0]![1]);
      expect(smoothed[0]![1]).toBeGreaterThan(smoothed.at(-1)![1]);
      expect(smoothed.at(-1)![1]).toBeLessThan(0.6);

      // The test digits: 60, mistakes marked exactly where the class given is not the label.
      const digits = await page.$$eval('#train-digits .digit', (es) => es.map((e) => {
        const { label, predicted, probability } = (e as HTMLElement).dataset;
        return { label, predicted, probability, mistake: e.classList.contains('mistake'), caption: e.querySelector('figcaption')!.textContent! };
      }));
      expect(digits).toHaveLength(60);
      for (const digit of digits) {
        expect(digit.mistake, JSON.stringify(digit)).toBe(digit.label !== digit.predicted);
        expect(Number(digit.probability)).toBeGreaterThan(0.1);
        expect(digit.caption).toContain(`${Math.round(Number(digit.probability) * 100)}%`);
      }
      expect(digits.filter((e) => !e.mistake).length).toBeGreaterThanOrEqual(48);
      expect(await page.$eval('#train-digits-summary', (e) => e.textContent)).toMatch(/after epoch 2 gets \d+ of 2\u2009000 test digits wrong/);
      expect(await page.$$eval('#train-weights .weight canvas', (es) => es.length)).toBe(10);
      await expectChartsDrawn(page, '#view-train .chart-pair');
      await checkedScreenshot(page, 'demo-train-done');

      // The mistakes only.
      await page.click('input[name="train-digits"][value="mistakes"]');
      const mistakes = await page.$$eval('#train-digits .digit', (es) => es.map((e) => e.classList.contains('mistake')));
      expect(mistakes.length).toBeGreaterThan(0);
      expect(mistakes.every(Boolean)).toBe(true);
      await page.click('input[name="train-digits"][value="first"]');
    }, TRAIN_TIMEOUT_MS + 60_000);

  it('a digit drawn with the mouse: ten probabilities summing to 1, the loss −log p of the class chosen', async ({ skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    expect((await trainResult(page)).state).toBe('done');
    // A 7: a bar across the top, then down to the left.
    await draw(page, [[[70, 50], [150, 48], [215, 50], [180, 130], [145, 240]]]);
    await page.waitForFunction(() => document.getElementById('train-draw-result')!.dataset.state === 'done');
    let shown = await drawnResult(page);
    expect(shown.trained).toBe('true');
    expect(shown.probabilities).toHaveLength(10);
    expect(Math.abs(shown.probabilities.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
    expect(shown.guess).toBe(shown.probabilities.indexOf(Math.max(...shown.probabilities)));
    console.log(`the drawn 7 is read as a ${shown.guess}: p = ${shown.probabilities.map((p) => p.toFixed(3)).join(' ')}`);
    expect(shown.guess).toBe(7);
    // Until a class is chosen, the loss is the model's guess's.
    expect(shown.target).toBe(shown.guess);
    expect(Math.abs(shown.loss + Math.log(shown.probabilities[shown.target]!))).toBeLessThan(1e-12 * Math.max(1, shown.loss));
    expect(Math.abs(Number(shown.text.replace('−', '-')) - shown.loss)).toBeLessThan(1e-8);
    await checkedScreenshot(page, 'demo-train-drawn');

    // The class the reader says it is: 3. The formula writes p₃ and its −log.
    await page.select('#train-draw-target', '3');
    shown = await drawnResult(page);
    expect(shown.target).toBe(3);
    expect(Math.abs(shown.loss + Math.log(shown.probabilities[3]!))).toBeLessThan(1e-12 * Math.max(1, shown.loss));
    expect(shown.loss).toBeGreaterThan(-Math.log(shown.probabilities[7]!));
    expect(shown.formula).toContain('−log');
    const p3 = shown.probabilities[3]!;
    expect(shown.formula).toContain(formatNumber(p3, 4));
    expect(await page.$eval('#train-draw-formula .target-term', (e) => e.textContent)).toContain('1');
    await checkedScreenshot(page, 'demo-train-drawn-class-3');

    await page.click('#train-draw-clear');
    expect(await page.$eval('#train-draw-result', (e) => (e as HTMLElement).dataset.state)).toBe('empty');
    expect(await page.$eval('#train-draw-target', (e) => (e as HTMLSelectElement).value)).toBe('');
  });

  it('Reset: a new model, the figures cleared, the settings open again', async ({ skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    await page.click('#train-reset');
    const d = await waitForState(page, ['ready']);
    expect(d).toMatchObject({ steps: '0', accuracy: '', accuracies: '[]' });
    expect(d.batchSize).toBeUndefined();
    expect(await page.$$eval('#train-digits .digit', (es) => es.length)).toBe(0);
    expect(await page.$eval('#train-batch', (e) => (e as HTMLInputElement).disabled)).toBe(false);
    expect(await page.$eval('#train-start', (e) => [(e as HTMLButtonElement).disabled, e.textContent])).toEqual([false, 'Start']);
    // A drawing on the new model: every weight 0, so every class 0.1 and the loss log 10.
    await draw(page, [[[140, 40], [140, 240]]]);
    await page.waitForFunction(() => document.getElementById('train-draw-result')!.dataset.state === 'done');
    const shown = await drawnResult(page);
    expect(shown.trained).toBe('false');
    shown.probabilities.forEach((p) => expect(p).toBeCloseTo(0.1, 12));
    expect(shown.loss).toBeCloseTo(LOG_10, 12);
  });

  it('without WebGPU: says so, and loads no digits', async () => {
    const bare = await page.browser().newPage();
    const seen: string[] = [];
    try {
      await bare.setViewport(VIEWPORT);
      await bare.evaluateOnNewDocument(() => {
        delete (Navigator.prototype as { gpu?: unknown }).gpu;
      });
      bare.on('request', (request: HTTPRequest) => { seen.push(request.url()); });
      await bare.goto(session.url('/#train'));
      await bare.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: LOAD_TIMEOUT_MS });
      expect(await bare.$eval('#view-train', (e) => (e as HTMLElement).hidden)).toBe(false);
      expect(await bare.$eval('#train-notice', (e) => [(e as HTMLElement).hidden, e.textContent])).toEqual([false,
        expect.stringContaining('Training needs WebGPU')]);
      expect(await bare.$eval('#train-body', (e) => [(e as HTMLElement).hidden, getComputedStyle(e).display])).toEqual([true, 'none']);
      expect(await bare.$eval('#train-result', (e) => (e as HTMLElement).dataset.state)).toBe('unavailable');
      expect(seen.filter((url) => DIGITS_REQUEST.test(url) || /examples\/digits/.test(url))).toEqual([]);
      await checkedScreenshot(bare, 'demo-train-no-webgpu');
    } finally {
      await bare.close();
    }
  });

  describe('built as a static site (npm run build:demo)', () => {
    let folder: string;
    let site: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      folder = mkdtempSync(join(tmpdir(), 'demo-train-site-'));
      await build({ configFile: 'vite.demo.config.ts', logLevel: 'warn', build: { outDir: folder, emptyOutDir: true, sourcemap: false } });
      site = await serveFolder(folder, '/some/static/host/path/');
    }, 120_000);
    afterAll(async () => {
      await site?.close();
      if (folder) rmSync(folder, { recursive: true, force: true });
    });

    it('the digits: ten JSON files of their own, in no code, fetched from a sub-path when the view opens', async ({ skip }) => {
      const html = readFileSync(join(folder, 'index.html'), 'utf8');
      const entry = /<script type="module" crossorigin src="\.\/assets\/([^"]+\.js)"/.exec(html)?.[1];
      expect(entry, 'the entry script in index.html').toBeDefined();
      const assets = readdirSync(join(folder, 'assets'));
      const size = (name: string) => statSync(join(folder, 'assets', name)).size;
      const code = (name: string) => readFileSync(join(folder, 'assets', name), 'utf8');
      // A class's file holds its ~1,000 images: megabytes of pixel values.
      const digitFiles = assets.filter((name) => /^\d-[\w-]+\.json$/.test(name));
      expect(digitFiles).toHaveLength(10);
      digitFiles.forEach((name) => expect(size(name), name).toBeGreaterThan(1_000_000));
      // No code holds pixel values; the training code is a chunk of its own, the only one naming the files.
      const scripts = assets.filter((name) => name.endsWith('.js'));
      scripts.forEach((name) => expect(code(name), name).not.toMatch(/(0,){200}/));
      const trainChunk = scripts.filter((name) => name.startsWith('train-data-'));
      expect(trainChunk).toHaveLength(1);
      expect(scripts.filter((name) => digitFiles.some((file) => code(name).includes(file)))).toEqual(trainChunk);
      expect(code(entry!)).not.toContain('classes expected');
      expect(code(entry!)).toContain(trainChunk[0]);

      if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
      const sitePage = await page.browser().newPage();
      const seen: string[] = [];
      try {
        sitePage.on('request', (request: HTTPRequest) => { seen.push(request.url()); });
        await sitePage.setViewport(VIEWPORT);
        await sitePage.goto(site.url);
        await sitePage.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: LOAD_TIMEOUT_MS });
        expect(seen.filter((url) => DIGITS_REQUEST.test(url))).toEqual([]);
        await sitePage.click('#tab-train');
        const d = await waitForState(sitePage, ['ready', 'error']);
        expect(d.state, await sitePage.$eval('#train-status', (e) => e.textContent)).toBe('ready');
        expect(seen.filter((url) => DIGITS_REQUEST.test(url))).toHaveLength(10);
        seen.filter((url) => DIGITS_REQUEST.test(url)).forEach((url) => expect(url).toContain('/some/static/host/path/assets/'));
      } finally {
        await sitePage.close();
      }
    }, 180_000);
  });
});
