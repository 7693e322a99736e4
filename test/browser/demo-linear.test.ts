/**
 * The demo page's linear head view in headless Chromium, used as a person would: a preset, options
 * and gradients chosen, a run. The page's own check must pass, and the loss it shows is checked here,
 * in Node, against the float64 reference on the same seeded problem, rebuilt from the spec the page
 * reports. Screenshots (1280 px wide) go to test/artifacts/demo-linear-*.png.
 */
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareArrays, linearCrossEntropyReference, type Dtype, type Reduction } from '../../src/index.js';
import {
  buildLinear, firstRows, linearTolerance, logitBytes, referenceOptions, referenceRows, type LinearPreset, type LinearSpec,
} from '../../demo/linear-data.js';
import { chromiumPath, openBrowser, type BrowserSession } from '../helpers/browser.js';
import { inCI } from '../helpers/webgpu-node.js';
import { checkedScreenshot } from './screenshots.js';

const VIEWPORT = { width: 1280, height: 800 };
const LOAD_TIMEOUT_MS = 60_000;
const RUN_TIMEOUT_MS = 100_000;

const hasChromium = chromiumPath() !== undefined;
if (!hasChromium && inCI) throw new Error('Chromium is required under CI (apt-get install chromium)');

async function setNumber(page: Page, selector: string, value: string): Promise<void> {
  await page.click(selector, { count: 3 });
  await page.keyboard.type(value);
}

async function setChecked(page: Page, selector: string, on: boolean): Promise<void> {
  if (await page.$eval(selector, (e) => (e as HTMLInputElement).checked) !== on) await page.click(selector);
}

/** A run as the test enters it; fields left out stay as the form has them. */
interface LinearRun {
  name: string;
  preset: LinearPreset | 'custom';
  dtype: Dtype;
  reduction: Reduction;
  weighted: boolean;
  softcap: string;
  screenshot: string;
}

/** Runs the view and returns #linear-result's data attributes once it is done or has failed. */
async function runView(page: Page, run: LinearRun): Promise<Record<string, string | undefined>> {
  await page.click('#tab-linear');
  // 'custom' keeps the shape the test typed in.
  if (run.preset !== 'custom') await page.select('#linear-preset', run.preset);
  await page.select('#linear-dtype', run.dtype);
  await page.select('#linear-reduction', run.reduction);
  await setChecked(page, '#linear-weight', run.weighted);
  await setNumber(page, '#linear-softcap', run.softcap);
  for (const id of ['bias', 'grad-hidden', 'grad-classifier', 'grad-bias']) await setChecked(page, `#linear-${id}`, true);
  await page.click('#linear-run');
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('linear-result')!.dataset.state!),
    { timeout: RUN_TIMEOUT_MS });
  return page.$eval('#linear-result', (e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }));
}

describe.skipIf(!hasChromium)('the demo page: linear head view', () => {
  let session: BrowserSession;
  let page: Page;
  let hasWebGpu = false;

  beforeAll(async () => {
    session = await openBrowser();
    page = session.page;
    await page.setViewport(VIEWPORT);
    await page.goto(session.url('/#linear'));
    await page.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: LOAD_TIMEOUT_MS });
    hasWebGpu = (await page.$eval('body', (b) => b.dataset.webgpu)) === 'true';
  }, 120_000);
  afterAll(async () => session?.close());

  it('opens from #linear with the small preset, and says what the shape costs', async () => {
    expect(await page.$eval('#view-linear', (e) => (e as HTMLElement).hidden)).toBe(false);
    expect(await page.$eval('#linear-preset', (e) => (e as HTMLSelectElement).value)).toBe('small');
    expect(await page.$eval('#linear-size', (e) => e.textContent)).toMatch(/64\u2009000 logits: 250\.0 KiB as float32.*all 64 rows/);
    await page.select('#linear-preset', 'gpt2');
    expect(await page.$eval('#linear-v', (e) => (e as HTMLInputElement).value)).toBe('50257');
    expect(await page.$eval('#linear-size', (e) => e.textContent)).toContain('× the 16.0 MiB memory budget');
    // Editing the shape by hand leaves the preset.
    await setNumber(page, '#linear-n', '100');
    expect(await page.$eval('#linear-preset', (e) => (e as HTMLSelectElement).value)).toBe('custom');
  });

  it.for([
    { name: 'small, float32, mean, bias, smoothing, z-loss, 10% ignored, every gradient', preset: 'small', dtype: 'float32',
      reduction: 'mean', weighted: false, softcap: '0', screenshot: 'demo-linear-small' },
    { name: 'small, float32, none, weighted, softcap 5, every gradient', preset: 'small', dtype: 'float32',
      reduction: 'none', weighted: true, softcap: '5', screenshot: 'demo-linear-small-none' },
  ] satisfies LinearRun[])('$name: the page\'s check passes and its loss is the reference\'s', async (run, { skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    const d = await runView(page, run);
    expect(d.state, d.text).toBe('done');
    const spec = JSON.parse(d.spec!) as LinearSpec;
    expect(spec).toMatchObject({ rows: 64, depth: 32, classes: 1000, dtype: run.dtype, reduction: run.reduction,
      bias: true, weighted: run.weighted, softcap: Number(run.softcap), grad: { hidden: true, classifier: true, bias: true } });

    // The page's check: all rows, every quantity within tolerance.
    expect(d).toMatchObject({ ok: 'true', checkScope: 'all', checkedRows: '64', lossOk: 'true' });
    expect(await page.$eval('#linear-verdict', (e) => e.textContent)).toMatch(/^✓ pass: /);
    const rows = await page.$$eval('#linear-result .check-table tbody tr',
      (trs) => trs.map((tr) => ({ quantity: (tr as HTMLElement).dataset.quantity, text: tr.textContent })));
    expect(rows.map((r) => r.quantity)).toEqual(['loss', 'hidden', 'classifier', 'bias']);
    rows.forEach((r) => expect(r.text).toMatch(/pass$/));
    expect(await page.$('#linear-subset-note')).toBeNull();

    // The same seeded problem rebuilt here: the page's reference loss is this reference's, to the
    // bit, and the GPU loss it shows is within the linear head's tolerance of it.
    const data = buildLinear(spec);
    const reference = linearCrossEntropyReference(data.hidden, data.classifier, data.target, referenceOptions(spec, data));
    if (run.reduction === 'none') {
      expect(d.loss).toBe('');
      expect(Number(d.lossMaxAbs)).toBeLessThan(1e-4);
    } else {
      expect(Number(d.referenceLoss)).toBe(reference.loss);
      const check = compareArrays(Number(d.loss), reference.loss, linearTolerance(spec.depth));
      expect(check.ok, `page ${d.loss} vs reference ${reference.loss}`).toBe(true);
      // The big number is the loss, rounded for people.
      const shown = await page.$eval('#linear-result dd.big', (e) => Number(e.textContent!.replace('−', '-')));
      expect(Math.abs(shown - (reference.loss as number))).toBeLessThan(1e-5);
    }

    // Memory: the peak was measured and is set beside the logits N × V × 4 and their gradient.
    expect(Number(d.peakBytes)).toBeGreaterThan(0);
    expect(Number(d.logitBytes)).toBe(logitBytes(spec));
    const bars = await page.$$eval('#linear-memory-bars .memory-bar', (rs) => rs.map((r) => (r as HTMLElement).dataset.kind));
    expect(bars).toEqual(['peak', 'logits', 'logits-grad']);
    expect(Number(d.gpuMs)).toBeGreaterThan(0);
    await checkedScreenshot(page, run.screenshot);
  });

  it('GPT-2 vocabulary (V = 50 257, budget 16 MiB): the peak stays under the logits alone', async ({ skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    const d = await runView(page, { name: 'gpt2', preset: 'gpt2', dtype: 'float32', reduction: 'mean', weighted: false,
      softcap: '0', screenshot: '' });
    expect(d.state, d.text).toBe('done');
    expect(d).toMatchObject({ ok: 'true', checkScope: 'all', checkedRows: '256' });
    const logits = 256 * 50_257 * 4;
    expect(Number(d.logitBytes)).toBe(logits);
    // Four chunks of 64 rows: hidden, classifier, their gradients and one chunk's logits, not all of them.
    expect(Number(d.peakBytes)).toBeLessThan(logits);
    await checkedScreenshot(page, 'demo-linear-gpt2');
  }, 180_000);

  it('a shape whose reference would take too long: checked on its first rows, run as a call of their own, and said so', async ({ skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    await page.click('#tab-linear');
    await page.select('#linear-preset', 'small');
    await setNumber(page, '#linear-n', '1024');
    await setNumber(page, '#linear-d', '128');
    await setNumber(page, '#linear-v', '4096');
    const d = await runView(page, { name: 'subset', preset: 'custom', dtype: 'float32', reduction: 'sum', weighted: false,
      softcap: '0', screenshot: '' });
    expect(d.state, d.text).toBe('done');
    const spec = JSON.parse(d.spec!) as LinearSpec;
    expect(spec).toMatchObject({ rows: 1024, depth: 128, classes: 4096 });
    const first = referenceRows(spec);
    expect(first).toBeLessThan(1024);
    expect(await page.$eval('#linear-size', (e) => e.textContent)).toContain(`the first ${first} rows only`);
    expect(d).toMatchObject({ ok: 'true', checkScope: 'first-rows', checkedRows: String(first) });
    expect(await page.$eval('#linear-verdict', (e) => e.textContent)).toContain(`pass on the first ${first} of 1${'\u2009'}024 rows`);
    expect(await page.$eval('#linear-subset-note', (e) => e.textContent)).toContain('is not itself checked');
    // The checked call is the first rows' own: its loss is the reference's on those rows.
    const data = firstRows(buildLinear(spec), first);
    const reference = linearCrossEntropyReference(data.hidden, data.classifier, data.target, referenceOptions(spec, data));
    expect(Number(d.referenceLoss)).toBe(reference.loss);
    expect(compareArrays(Number(d.checkedLoss), reference.loss, linearTolerance(spec.depth)).ok).toBe(true);
    await checkedScreenshot(page, 'demo-linear-first-rows');
  }, 180_000);

  it.for(['float16', 'bfloat16'] as const)('%s inputs: checked against the reference on the same 16-bit values',
    async (dtype, { skip }) => {
      if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
      const d = await runView(page, { name: dtype, preset: 'small', dtype, reduction: 'mean', weighted: false,
        softcap: '0', screenshot: '' });
      expect(d.state, d.text).toBe('done');
      expect(d).toMatchObject({ ok: 'true', dtype, checkScope: 'all' });
      expect(d.text).toContain(`rounded to ${dtype}`);
      expect(d.text).toContain(`d(hidden) in ${dtype}, d(classifier) in ${dtype}, d(bias) in float32`);
      expect(await page.$eval('#linear-result .check-table tbody tr[data-quantity="hidden"]', (e) => e.textContent))
        .toContain(`½ ulp of ${dtype}`);
      await checkedScreenshot(page, `demo-linear-${dtype}`);
    });

  it('a call the library refuses: its error shown as it said it', async ({ skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    await page.click('#tab-linear');
    await page.select('#linear-preset', 'small');
    // The field's own min would stop a person before the library: lifted, to reach the library's check.
    await page.$eval('#linear-budget', (e) => e.removeAttribute('min'));
    await setNumber(page, '#linear-budget', '0');
    await page.click('#linear-run');
    await page.waitForFunction(() => document.getElementById('linear-result')!.dataset.state === 'error');
    const d: Record<string, string | undefined> = await page.$eval('#linear-result',
      (e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }));
    expect(d.error).toBe('options.memoryBudget must be a positive number of bytes, got 0');
    expect(d.text).toBe(`Could not run: RangeError: ${d.error}`);
    expect(await page.$eval('#linear-run', (b) => (b as HTMLButtonElement).disabled)).toBe(false);
  });
});
