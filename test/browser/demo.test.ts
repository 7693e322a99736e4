/**
 * The demo page (index.html) in headless Chromium: each view used as a person would (a logit
 * changed, batch runs in each dtype, the recorded benchmark, a short benchmark), the numbers it
 * shows read from the DOM and checked here, in Node, against the float64 reference; the page without
 * WebGPU; the static build served from a sub-path. Screenshots (1280 px wide) go to test/artifacts/
 * and are checked not to be blank.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLS, ROOFLINES } from '../../bench/chart.js';
import { ratioToRoofline, shapesOf, type BenchRow } from '../../bench/ratios.js';
import {
  compareWithReference, crossEntropyReference, decodeHalf, type Dtype, type InputKind, type Reduction, type ReferenceResult,
} from '../../src/index.js';
import { chromiumPath, openBrowser, type BrowserSession } from '../helpers/browser.js';
import { buildCase, toHalfCase, type CaseSpec } from '../../problems/cases.js';
import { inCI } from '../helpers/webgpu-node.js';
import { checkedScreenshot, expectChartsDrawn, imageStats, looksBlank } from './screenshots.js';
import { serveBuiltDemo, type StaticSite } from './static-site.js';

/** The worked examples' loss: −log 0.7. */
const MINUS_LOG_0_7 = 0.35667494393873245;
const VIEWPORT = { width: 1280, height: 800 };
const LOAD_TIMEOUT_MS = 60_000;

const hasChromium = chromiumPath() !== undefined;
if (!hasChromium && inCI) throw new Error('Chromium is required under CI (apt-get install chromium)');

/** What the single example's result element says, at full precision. */
interface Shown {
  state: string;
  source: 'gpu' | 'cpu-reference';
  enteredAs: InputKind;
  target: number;
  values: number[];
  probabilities: number[];
  loss: number;
  grad: number[];
  check: string;
  text: string;
}

async function shownSingle(page: Page): Promise<Shown> {
  await page.waitForFunction(() => document.getElementById('single-result')!.dataset.state === 'done', { timeout: LOAD_TIMEOUT_MS });
  const d: Record<string, string | undefined> = await page.$eval('#single-result',
    (e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }));
  return {
    state: d.state!, source: d.source as Shown['source'], enteredAs: d.enteredAs as InputKind, target: Number(d.target),
    values: JSON.parse(d.values!), probabilities: JSON.parse(d.probabilities!), loss: Number(d.loss), grad: JSON.parse(d.grad!),
    check: d.check!, text: d.text!,
  };
}

function referenceOf(shown: Shown): ReferenceResult {
  return crossEntropyReference({ data: Float64Array.from(shown.values), shape: [shown.values.length] },
    { data: Int32Array.of(shown.target), shape: [] }, { input: shown.enteredAs, grad: true });
}

/** The shown loss and gradient agree with the reference; the shown probabilities are the reference's. */
function expectMatchesReference(shown: Shown): void {
  const reference = referenceOf(shown);
  const check = compareWithReference({ loss: shown.loss, grad: Float32Array.from(shown.grad) }, reference);
  expect(check.ok, `shown ${JSON.stringify(shown)} vs reference`).toBe(true);
  if (shown.source === 'cpu-reference') {
    expect(shown.loss).toBe(reference.loss);
    // Equal as numbers (JSON writes −0 as 0).
    shown.grad.forEach((g, c) => expect(g === reference.grad![c], `grad[${c}]`).toBe(true));
  }
  // For logits, the reference's gradient of one row is p − y: p is read back from it.
  const p = shown.enteredAs === 'logits' ? [...reference.grad!].map((g, c) => g + (c === shown.target ? 1 : 0)) : shown.values;
  shown.probabilities.forEach((pc, c) => expect(Math.abs(pc - p[c]!), `p[${c}]`).toBeLessThan(1e-12));
  // The big number is the shown loss, rounded for people.
  expect(Math.abs(Number(shown.text.replace('−', '-')) - shown.loss)).toBeLessThan(1e-8 * Math.max(1, shown.loss));
}

/**
 * Fails unless every labelled tick of a chart's log y axis, as Chart.js laid it out, reads as its own
 * value (100 as 100×, not 1×); returns the labels.
 */
async function expectTicksAsWritten(page: Page, canvas: string): Promise<string[]> {
  const ticks = JSON.parse(await page.$eval(canvas, (e) => (e as HTMLElement).dataset.yTicks ?? '[]')) as { value: number; label: string }[];
  const labels = ticks.filter((t) => t.label !== '');
  expect(labels.length, `${canvas}'s labelled ticks`).toBeGreaterThan(1);
  for (const { value, label } of labels) {
    expect(label, `${canvas}: the tick at ${value}`).toMatch(/^[0-9.]+×$/);
    expect(Math.abs(Number(label.slice(0, -1)) - value), `${canvas}: the tick at ${value} reads ${label}`).toBeLessThanOrEqual(1e-9 * value);
  }
  return labels.map((t) => t.label);
}

/** 10^k written out, as an axis should label it: 0.01, 1, 100. */
function powerOfTen(k: number): string {
  return k >= 0 ? `1${'0'.repeat(k)}` : `0.${'0'.repeat(-k - 1)}1`;
}

/** A batch problem as the test enters it in the form. */
interface BatchRun {
  name: string;
  n: string;
  c: string;
  target: CaseSpec['targetKind'];
  reduction: Reduction;
  dtype: Dtype;
  gradDtype: Dtype;
  screenshot: string;
}

/**
 * The largest gradient error a batch run here may show: float32's tolerances, and for a 16-bit
 * gradient half an ulp of its dtype on top, at the gradients of these problems (|g| < 2).
 */
const GRAD_MAX_ABS: Record<Dtype, number> = { float32: 1e-5, float16: 1e-3, bfloat16: 1e-2 };

async function setNumber(page: Page, selector: string, value: string): Promise<void> {
  await page.click(selector, { count: 3 });
  await page.keyboard.type(value);
}

describe.skipIf(!hasChromium)('the demo page (index.html)', () => {
  let session: BrowserSession;
  let page: Page;
  let hasWebGpu = false;

  beforeAll(async () => {
    session = await openBrowser();
    page = session.page;
    await page.setViewport(VIEWPORT);
    await page.goto(session.url('/'));
    await page.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: LOAD_TIMEOUT_MS });
    hasWebGpu = (await page.$eval('body', (b) => b.dataset.webgpu)) === 'true';
  }, 120_000);
  afterAll(async () => session?.close());

  it('shows the adapter in use (required under CI)', async ({ skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    expect(hasWebGpu).toBe(true);
    const card: Record<string, string | undefined> = await page.$eval('#adapter',
      (e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }));
    expect(card.state).toBe('found');
    expect(card.vendor).toBeTruthy();
    expect(card.fallback).toMatch(/^(true|false)$/);
    for (const text of ['WebGPU adapter', 'subgroups', 'shader-f16', 'timestamp-query', 'maxStorageBufferBindingSize', 'core WebGPU only']) {
      expect(card.text).toContain(text);
    }
  });

  it("single example: the seeds' three classes, then a changed logit, then the ten digits, each as the reference says", async () => {
    let shown = await shownSingle(page);
    expect(shown).toMatchObject({ enteredAs: 'probabilities', values: [0.7, 0.2, 0.1], target: 0, source: hasWebGpu ? 'gpu' : 'cpu-reference' });
    expectMatchesReference(shown);
    expect(Math.abs(shown.loss - MINUS_LOG_0_7)).toBeLessThan(1e-6);
    if (hasWebGpu) expect(shown.check).toBe('pass');
    expect(await page.$eval('#single-formula', (e) => e.textContent)).toContain('0.7');
    await expectChartsDrawn(page, '#view-single');
    await checkedScreenshot(page, 'demo-single-three-classes');

    // As logits: z = log p gives the same loss; then z_B is typed in and the slider follows.
    await page.click('input[name="single-input"][value="logits"]');
    shown = await shownSingle(page);
    expect(shown.enteredAs).toBe('logits');
    expect(Math.abs(shown.loss - MINUS_LOG_0_7)).toBeLessThan(1e-6);
    await setNumber(page, '#single-value-1', '2.5');
    await page.waitForFunction(() => JSON.parse(document.getElementById('single-result')!.dataset.values!)[1] === 2.5);
    shown = await shownSingle(page);
    expect(shown.values[1]).toBe(2.5);
    expectMatchesReference(shown);
    expect(shown.loss).toBeGreaterThan(1.5);
    expect(Number(await page.$eval('[data-class="1"] input[type="range"]', (e) => (e as HTMLInputElement).value))).toBe(2.5);
    // The gradient of logits is p − y: the true class's bar is negative, the others positive.
    expect(shown.grad[0]).toBeLessThan(0);
    expect(shown.grad[1]).toBeGreaterThan(0);
    await checkedScreenshot(page, 'demo-single-logits-changed');

    await page.select('#single-preset', 'ten-digits');
    shown = await shownSingle(page);
    expect(shown).toMatchObject({ enteredAs: 'probabilities', target: 3 });
    expect(shown.values).toHaveLength(10);
    expectMatchesReference(shown);
    expect(Math.abs(shown.loss - MINUS_LOG_0_7) / MINUS_LOG_0_7).toBeLessThan(1e-6);
    // A slider moved with the keyboard: p_3 goes up one step, the others rescale to sum to 1.
    await page.focus('[data-class="3"] input[type="range"]');
    await page.keyboard.press('ArrowRight');
    shown = await shownSingle(page);
    expect(shown.values[3]).toBeCloseTo(0.701, 12);
    expect(shown.values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expectMatchesReference(shown);
    await checkedScreenshot(page, 'demo-single-ten-digits');
  });

  it.for([
    { name: 'class indices, weighted, smoothed, 10% ignored, mean, gradient', n: '64', c: '1000', target: 'classIndex', reduction: 'mean',
      dtype: 'float32', gradDtype: 'float32', screenshot: 'demo-batch-mean' },
    { name: 'probability targets, none, gradient', n: '16', c: '300', target: 'probabilities', reduction: 'none',
      dtype: 'float32', gradDtype: 'float32', screenshot: 'demo-batch-none' },
    { name: 'float16: class indices, mean, f16 grad', n: '64', c: '1000',
      target: 'classIndex', reduction: 'mean', dtype: 'float16', gradDtype: 'float16', screenshot: 'demo-batch-float16' },
    { name: 'bfloat16: probabilities, sum, bf16 grad', n: '32', c: '500', target: 'probabilities', reduction: 'sum',
      dtype: 'bfloat16', gradDtype: 'bfloat16', screenshot: 'demo-batch-bfloat16' },
    { name: 'bfloat16: class indices, none, f32 grad', n: '16', c: '300', target: 'classIndex', reduction: 'none',
      dtype: 'bfloat16', gradDtype: 'float32', screenshot: 'demo-batch-bfloat16-f32-grad' },
  ] satisfies BatchRun[])('batch: $name, on the GPU, checked in the page and here', async (run, { skip }) => {
    if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
    const { n, c, target, reduction, dtype, gradDtype } = run;
    await page.click('#tab-batch');
    await setNumber(page, '#batch-n', n);
    await setNumber(page, '#batch-c', c);
    await page.select('#batch-target', target);
    await page.select('#batch-reduction', reduction);
    await page.select('#batch-dtype', dtype);
    // The gradient's dtype is a choice for 16-bit logits only; float32 logits disable it.
    expect(await page.$eval('#batch-grad-dtype', (e) => (e as HTMLSelectElement).disabled)).toBe(dtype === 'float32');
    if (dtype !== 'float32') await page.select('#batch-grad-dtype', gradDtype === dtype ? '' : gradDtype);
    expect(await page.$eval('#batch-size', (e) => e.textContent)).toContain(`of ${dtype}`);
    await page.click('#batch-run');
    await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('batch-result')!.dataset.state!), { timeout: LOAD_TIMEOUT_MS });
    const d = await page.$eval('#batch-result', (e) => ({ ...(e as HTMLElement).dataset }));
    expect(d.state, await page.$eval('#batch-result', (e) => e.textContent)).toBe('done');
    const spec = JSON.parse(d.spec!) as CaseSpec;
    expect(spec).toMatchObject({ shape: [Number(n), Number(c)], targetKind: target, reduction, grad: true, weighted: true });
    // The page's check says pass, and its errors are within the library's tolerances.
    expect(d.ok).toBe('true');
    expect(await page.$eval('#batch-verdict', (e) => e.textContent)).toMatch(/pass/);
    const rows = await page.$$eval('.check-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
    expect(rows).toHaveLength(2);
    rows.forEach((row) => expect(row).toMatch(/pass$/));
    expect(Number(d.gradMaxAbs)).toBeLessThan(GRAD_MAX_ABS[gradDtype]);
    expect(Number(d.gpuMs)).toBeGreaterThan(0);

    // What ran is said: the dtypes, the bytes uploaded (2 a value for 16 bits), the same values in the check.
    expect(d).toMatchObject({ dtype, gradDtype, logitBytes: String(Number(n) * Number(c) * (dtype === 'float32' ? 4 : 2)) });
    const storage = await page.$eval('#batch-storage', (e) => e.textContent!);
    expect(storage).toContain(`${dtype}, ${dtype === 'float32' ? 4 : 2} bytes a value`);
    expect(storage).toContain(`${gradDtype}, ${gradDtype === 'float32' ? 4 : 2} bytes a value`);
    expect(await page.$eval('.check-table caption', (e) => e.textContent)).toContain(`the same ${dtype} logits`);
    const halfUlpNote = await page.$eval('#batch-result', (e) => e.querySelector('#batch-half-ulp-note')?.textContent ?? null);
    if (gradDtype === 'float32') {
      expect(halfUlpNote).toBeNull();
    } else {
      expect(halfUlpNote).toContain(`half an ulp of ${gradDtype}`);
      expect(rows[1]).toContain(`½ ulp of ${gradDtype}`);
    }

    // The same seeded problem, rebuilt and stored as the dtype here: the shown loss agrees with the
    // reference on those values, and the page's reference loss is that reference's, to the bit.
    const built = buildCase(spec);
    const { logits } = dtype === 'float32' ? built : toHalfCase(built, dtype);
    if (dtype !== 'float32') {
      const stored = decodeHalf(logits.data as Uint16Array, dtype);
      const change = stored.reduce((max, v, i) => Math.max(max, Math.abs(v - built.logits.data[i]!)), 0);
      expect(Number(d.roundingMaxAbs)).toBe(change);
      expect(change).toBeGreaterThan(0);
    }
    const reference = crossEntropyReference(logits, built.target, built.options);
    if (reduction === 'none') {
      expect(d.loss).toBe('');
      expect(Number(d.lossMaxAbs)).toBeLessThan(1e-5);
    } else {
      expect(Number(d.referenceLoss)).toBe(reference.loss);
      expect(compareWithReference({ loss: Number(d.loss) }, reference).ok).toBe(true);
      if (dtype !== 'float32') {
        // Rounding to 16 bits moves the loss by more than the tolerance: the page did not check against the f32 draw.
        expect(reference.loss).not.toBe(crossEntropyReference(built.logits, built.target, built.options).loss);
      }
    }
    await checkedScreenshot(page, run.screenshot);
  });

  it('benchmark: opens on the recorded run; log axes read as written; floors keyed apart from implementations; the table fits 1280 px', async () => {
    await page.click('#tab-bench');
    await page.waitForFunction(() => document.getElementById('bench-results')!.dataset.state === 'recorded');
    const { rows } = JSON.parse(readFileSync('bench/results.json', 'utf8')) as { rows: BenchRow[] };
    const shapes = shapesOf(rows);
    expect(JSON.parse(await page.$eval('#bench-results', (e) => (e as HTMLElement).dataset.shapes!))).toEqual(shapes);

    // The ratio axis runs from the power of ten below the smallest ratio to the one above the
    // largest (the page draws ratios over 1000 at 1000), every power between labelled.
    const ratios = shapes.flatMap((shape) => IMPLS.map(({ impl }) => ratioToRoofline(rows, shape, impl)))
      .filter((r): r is number => r !== null && r > 0);
    const low = Math.floor(Math.log10(Math.min(...ratios)));
    const high = Math.ceil(Math.log10(Math.min(Math.max(...ratios), 1000)));
    const labels = await expectTicksAsWritten(page, '#bench-roofline-chart');
    for (let k = low; k <= high; k++) expect(labels).toContain(`${powerOfTen(k)}×`);
    await expectTicksAsWritten(page, '#bench-speedup-chart');

    // The key: floors (the rooflines first), then implementations, each with its sentence.
    const key = await page.$$eval('#bench-key section', (sections) => sections.map((section) => ({
      kind: (section as HTMLElement).dataset.kind,
      entries: [...section.querySelectorAll('li')].map((li) => ({ impl: li.dataset.impl!, about: li.querySelector('.about')!.textContent! })),
    })));
    expect(key.map((group) => group.kind)).toEqual(['floor', 'implementation']);
    const [floors, implementations] = key.map((group) => group.entries.map((e) => e.impl));
    expect(floors!.slice(0, 2)).toEqual(['roofline-read', 'roofline-copy']);
    floors!.forEach((impl) => expect(impl).toMatch(/^(roofline|floor)-/));
    expect(implementations).toEqual(expect.arrayContaining(['ours-forward', 'ours-forward-grad', 'tfjs-webgpu', 'jaxjs-webgpu', 'cpu-reference']));
    implementations!.forEach((impl) => expect(impl).not.toMatch(/^(roofline|floor)-/));
    expect([...floors!, ...implementations!].sort()).toEqual([...ROOFLINES, ...IMPLS].map((e) => e.impl).sort());
    key.flatMap((group) => group.entries).forEach(({ impl, about }) => expect(about.length, impl).toBeGreaterThan(40));
    // The chart draws the implementations and floors the key lists; the rooflines are its 1×.
    expect(await page.$eval('#bench-roofline-chart', (e) => JSON.parse((e as HTMLElement).dataset.labels!).length)).toBe(shapes.length);

    // The table: a column per shape, every one inside its card, and nothing wider than the window.
    expect(await page.$$eval('#bench-table thead th[data-shape]', (ths) => ths.map((th) => JSON.parse((th as HTMLElement).dataset.shape!))))
      .toEqual(shapes);
    const fit = await page.$eval('#bench-table', (table) => {
      const scroller = table.closest('.table-scroll')!;
      const card = table.closest('.card')!.getBoundingClientRect();
      const cells = [...table.querySelectorAll('th, td')].map((c) => c.getBoundingClientRect().right);
      return { scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth, cardRight: card.right,
        lastCell: Math.max(...cells), pageWidth: document.documentElement.scrollWidth, windowWidth: window.innerWidth };
    });
    expect(fit.scrollWidth, `the table in its card: ${JSON.stringify(fit)}`).toBeLessThanOrEqual(fit.clientWidth);
    expect(fit.lastCell, JSON.stringify(fit)).toBeLessThanOrEqual(fit.cardRight);
    expect(fit.cardRight, JSON.stringify(fit)).toBeLessThanOrEqual(fit.windowWidth);
    expect(fit.pageWidth, JSON.stringify(fit)).toBeLessThanOrEqual(fit.windowWidth);
    await expectChartsDrawn(page, '#view-bench');
    await checkedScreenshot(page, 'demo-benchmark-recorded');
  });

  it('names no file outside the repository (the page and its code)', () => {
    const sources = ['index.html', ...readdirSync('demo').map((name) => `demo/${name}`)];
    for (const path of sources) expect(readFileSync(path, 'utf8'), path).not.toMatch(/DESIGN\.md|\.\.\/shared|§\d/);
  });

  it('the screenshot check fails on a blank page and on a page of plain text', async () => {
    const other = await page.browser().newPage();
    try {
      await other.setViewport(VIEWPORT);
      for (const html of ['', '<p>Loading…</p>']) {
        await other.setContent(html);
        const stats = await imageStats(page, await other.screenshot({ encoding: 'base64' }));
        expect(looksBlank(stats), JSON.stringify(stats)).toBe(true);
      }
    } finally {
      await other.close();
    }
  });

  it('without WebGPU: says so and how to get it; the single example runs on the CPU reference', async () => {
    const bare = await page.browser().newPage();
    try {
      await bare.setViewport(VIEWPORT);
      // As a browser without WebGPU: navigator.gpu does not exist.
      await bare.evaluateOnNewDocument(() => {
        delete (Navigator.prototype as { gpu?: unknown }).gpu;
      });
      await bare.goto(session.url('/'));
      await bare.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: LOAD_TIMEOUT_MS });
      const card: Record<string, string | undefined> = await bare.$eval('#adapter',
        (e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }));
      expect(card).toMatchObject({ state: 'missing', reason: 'no-api' });
      expect(card.text).toContain('WebGPU is not available in this browser');
      expect(card.text).toMatch(/chrome:\/\/flags/);
      expect(card.text).toContain('float64 reference');
      let shown = await shownSingle(bare);
      expect(shown.source).toBe('cpu-reference');
      expect(shown.loss).toBe(crossEntropyReference({ data: new Float64Array([0.7, 0.2, 0.1]), shape: [3] },
        { data: new Int32Array([0]), shape: [] }, { input: 'probabilities' }).loss);
      await bare.select('#single-target', '1');
      shown = await shownSingle(bare);
      expect(shown.target).toBe(1);
      expectMatchesReference(shown);
      expect(Math.abs(shown.loss + Math.log(0.2))).toBeLessThan(1e-15);
      expect(await bare.$eval('#batch-run', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
      expect(await bare.$eval('#bench-start', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
      await checkedScreenshot(bare, 'demo-no-webgpu');
    } finally {
      await bare.close();
    }
  });

  describe('built as a static site (npm run build:demo), served from a sub-path', () => {
    let site: StaticSite;
    let sitePage: Page;
    beforeAll(async () => {
      site = await serveBuiltDemo();
      sitePage = await page.browser().newPage();
      await sitePage.setViewport(VIEWPORT);
      await sitePage.goto(site.url);
      await sitePage.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: LOAD_TIMEOUT_MS });
    }, 120_000);
    afterAll(async () => {
      await sitePage?.close();
      await site?.close();
    });

    it('computes the single example', async () => {
      const shown = await shownSingle(sitePage);
      expectMatchesReference(shown);
      expect(shown.source).toBe(hasWebGpu ? 'gpu' : 'cpu-reference');
    });

    it('runs a short benchmark (the bench module, loaded on demand) with progress, charts and table', async ({ skip }) => {
      if (!hasWebGpu && !inCI) skip('no WebGPU adapter in this Chromium');
      await sitePage.goto(`${site.url}#bench`);
      await sitePage.waitForFunction(() => !document.getElementById('view-bench')!.hidden);
      const shapes = [[1, 3], [16, 100], [2, 5, 4, 4]];
      await setNumber(sitePage, '#bench-shapes', shapes.map((s) => s.join('x')).join(', '));
      await setNumber(sitePage, '#bench-rounds', '2');
      await sitePage.click('#bench-start');
      await sitePage.waitForFunction(() => ['done', 'error'].includes(document.getElementById('bench-results')!.dataset.state!),
        { timeout: 120_000 });
      const status = await sitePage.$eval('#bench-status', (e) => e.textContent);
      const d = await sitePage.$eval('#bench-results', (e) => ({ ...(e as HTMLElement).dataset }));
      expect(d.state, status ?? '').toBe('done');
      expect(JSON.parse(d.shapes!)).toEqual(shapes);
      expect(await sitePage.$eval('#bench-progress', (e) => (e as HTMLProgressElement).value)).toBe(1);
      const labels = shapes.map((s) => `[${s.join(', ')}]`);
      for (const id of ['bench-roofline-chart', 'bench-speedup-chart']) {
        expect(JSON.parse(await sitePage.$eval(`#${id}`, (e) => (e as HTMLElement).dataset.labels!))).toEqual(labels);
      }
      expect(await sitePage.$$eval('#bench-table thead th[data-shape]', (ths) => ths.map((th) => th.textContent))).toEqual(labels);
      await expectTicksAsWritten(sitePage, '#bench-roofline-chart');
      // Every implementation of ours was timed and its loss matched the reference.
      const rows = JSON.parse(d.rows!) as { shape: number[]; impl: string; median_ms: number | null; rel_error: number | null }[];
      for (const shape of shapes) {
        for (const impl of ['roofline-read', 'ours-forward', 'ours-forward-grad', 'cpu-reference']) {
          const row = rows.find((r) => r.impl === impl && JSON.stringify(r.shape) === JSON.stringify(shape));
          // Timers are coarsened to 0.1 ms in a page: a CPU call on [1, 3] may read 0, a GPU round trip cannot.
          expect(row?.median_ms, `${impl} at [${shape}]`).toBeGreaterThanOrEqual(impl === 'cpu-reference' ? 0 : Number.MIN_VALUE);
          if (impl.startsWith('ours')) expect(row!.rel_error, `${impl} at [${shape}]`).toBeLessThan(1e-5);
        }
      }
      await expectChartsDrawn(sitePage, '#view-bench');
      await checkedScreenshot(sitePage, 'demo-benchmark');
    }, 180_000);
  });
});
