/**
 * Screenshots a person can look at (saved under test/artifacts/, git-ignored) that the tests also
 * check are not blank: decoded in the browser, a page worth looking at has many colours and no single
 * colour covering nearly all of it; a chart's canvas has many drawn pixels.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from 'puppeteer';
import { expect } from 'vitest';

export const ARTIFACTS = 'test/artifacts';

/** A blank or nearly blank page has fewer distinct colours than this (text anti-aliasing alone gives more). */
const MIN_DISTINCT_COLORS = 64;
/** ... or one colour over this share of its pixels. */
const MAX_DOMINANT_SHARE = 0.9;
/** A drawn chart covers at least this share of its canvas with non-transparent pixels (axes, grid, bars). */
const MIN_CHART_INK = 0.01;

export interface ImageStats {
  readonly width: number;
  readonly height: number;
  readonly distinctColors: number;
  readonly dominantShare: number;
}

/** Decodes a PNG (base64) in the page and counts its colours. */
export async function imageStats(page: Page, base64: string): Promise<ImageStats> {
  return page.evaluate(async (data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const pixels = new Uint32Array(context.getImageData(0, 0, bitmap.width, bitmap.height).data.buffer);
    const counts = new Map<number, number>();
    for (const p of pixels) counts.set(p, (counts.get(p) ?? 0) + 1);
    return { width: bitmap.width, height: bitmap.height, distinctColors: counts.size,
      dominantShare: Math.max(...counts.values()) / pixels.length };
  }, base64);
}

/** Whether an image is too plain to show anything: too few colours, or one colour nearly everywhere. */
export function looksBlank(stats: ImageStats): boolean {
  return stats.distinctColors < MIN_DISTINCT_COLORS || stats.dominantShare >= MAX_DOMINANT_SHARE;
}

/** Screenshots the whole page to test/artifacts/<name>.png and fails if it is blank. */
export async function checkedScreenshot(page: Page, name: string): Promise<ImageStats> {
  const base64 = await page.screenshot({ encoding: 'base64', fullPage: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(`${ARTIFACTS}/${name}.png`, Buffer.from(base64, 'base64'));
  const stats = await imageStats(page, base64);
  expect(looksBlank(stats), `${name}.png looks blank: ${JSON.stringify(stats)}`).toBe(false);
  return stats;
}

/** Fails unless every visible chart canvas under `selector` has something drawn on it. */
export async function expectChartsDrawn(page: Page, selector: string): Promise<void> {
  const ink = await page.$$eval(`${selector} canvas`, (canvases) => canvases.filter((c) => c.offsetParent !== null).map((c) => {
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    let drawn = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) drawn++;
    return { id: c.id, share: drawn / (c.width * c.height), size: c.width * c.height };
  }));
  expect(ink.length, `charts under ${selector}`).toBeGreaterThan(0);
  for (const { id, share, size } of ink) {
    expect(size, `#${id} has a size`).toBeGreaterThan(0);
    expect(share, `#${id}: share of drawn pixels`).toBeGreaterThan(MIN_CHART_INK);
  }
}
