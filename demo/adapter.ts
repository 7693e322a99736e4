/**
 * Which WebGPU adapter the page runs on, shown as a card: vendor, architecture, whether it is a
 * fallback (software) adapter, the features it offers and those the library uses, and the limits that
 * decide how large a problem runs in one piece. Without WebGPU, how to get it.
 */
import { element } from './dom.js';
import { formatBytes, formatCount } from './format.js';

/** Features a reader may look for; the library itself needs none of them (core WebGPU only). */
const NOTABLE_FEATURES = ['subgroups', 'timestamp-query', 'shader-f16'] as const;

/** Limits that decide whether a problem fits one binding, one buffer, one dispatch. */
const SHOWN_LIMITS = [
  ['maxStorageBufferBindingSize', 'bytes'], ['maxBufferSize', 'bytes'],
  ['maxComputeWorkgroupsPerDimension', 'count'], ['maxComputeInvocationsPerWorkgroup', 'count'],
] as const;

/** Why there is no adapter: no navigator.gpu at all, or an API that found no adapter. */
export type Unavailable = 'no-api' | 'no-adapter';

/** The adapter, or why there is none. */
export type AdapterLookup = { adapter: GPUAdapter } | { adapter: null; reason: Unavailable };

export async function findAdapter(): Promise<AdapterLookup> {
  if (!('gpu' in navigator) || navigator.gpu === undefined) return { adapter: null, reason: 'no-api' };
  const adapter = await navigator.gpu.requestAdapter().catch(() => null);
  return adapter === null ? { adapter: null, reason: 'no-adapter' } : { adapter };
}

function isFallback(adapter: GPUAdapter): boolean {
  // info.isFallbackAdapter is the current spelling; adapter.isFallbackAdapter the older one.
  const old = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return adapter.info.isFallbackAdapter ?? old ?? false;
}

function detail(term: string, value: string | HTMLElement, key?: string): HTMLElement[] {
  const dt = element('dt', '', term);
  const dd = element('dd');
  if (typeof value === 'string') dd.textContent = value;
  else dd.append(value);
  if (key) dd.dataset.key = key;
  return [dt, dd];
}

function featureChips(adapter: GPUAdapter): HTMLElement {
  const list = element('ul', 'chips');
  for (const name of NOTABLE_FEATURES) {
    const offered = adapter.features.has(name);
    const chip = element('li', offered ? 'chip on' : 'chip off', name);
    chip.title = offered ? `${name}: offered by this adapter, not needed by the library` : `${name}: not offered`;
    chip.setAttribute('aria-label', `${name} ${offered ? 'offered' : 'not offered'}`);
    list.append(chip);
  }
  const others = adapter.features.size - NOTABLE_FEATURES.filter((f) => adapter.features.has(f)).length;
  if (others > 0) list.append(element('li', 'chip more', `+${others} more`));
  return list;
}

/** Fills the adapter card for an adapter that was found. */
export function showAdapter(section: HTMLElement, adapter: GPUAdapter): void {
  const info = adapter.info;
  const fallback = isFallback(adapter);
  section.dataset.state = 'found';
  section.dataset.vendor = info.vendor;
  section.dataset.architecture = info.architecture;
  section.dataset.fallback = String(fallback);
  const name = [info.vendor, info.architecture].filter(Boolean).join(' · ') || 'unnamed adapter';
  const head = element('p', 'adapter-status');
  head.append(element('span', 'dot ok'), `WebGPU adapter: `, element('strong', '', name));
  if (fallback) head.append(element('span', 'badge warn', 'fallback (software)'));
  const details = element('dl', 'adapter-details');
  details.append(
    ...detail('device', info.device || info.description || '—'),
    ...detail('fallback adapter', fallback ? 'yes: software, timings say little about a GPU' : 'no', 'fallback'),
    ...detail('features', featureChips(adapter)),
    ...detail('used by the library', 'starting…', 'used'),
  );
  for (const [limit, kind] of SHOWN_LIMITS) {
    const value = adapter.limits[limit];
    details.append(...detail(limit, kind === 'bytes' ? formatBytes(value) : formatCount(value)));
  }
  const more = element('details', 'adapter-more');
  more.append(element('summary', '', 'Adapter details'), details);
  section.replaceChildren(head, more);
}

/** Says clearly that WebGPU is missing, and how to get it; the single example still runs on the CPU. */
export function showUnavailable(section: HTMLElement, reason: Unavailable): void {
  section.dataset.state = 'missing';
  section.dataset.reason = reason;
  const head = element('p', 'adapter-status');
  head.append(element('span', 'dot missing'), element('strong', '',
    reason === 'no-api' ? 'WebGPU is not available in this browser.' : 'WebGPU found no adapter (no usable GPU).'));
  const how = element('ul', 'how-to');
  const secure = window.isSecureContext ? '' : ' This page is not a secure context: WebGPU needs https:// or http://localhost.';
  for (const line of [
    `Use Chrome or Edge 113 or later (Windows, macOS, ChromeOS) or 121 or later on Android; Safari 26; Firefox 141 or later on Windows.${secure}`,
    'On Linux, enable it in chrome://flags (#enable-unsafe-webgpu, and #enable-vulkan), or start Chromium with --enable-unsafe-webgpu --enable-features=Vulkan.',
    'If the GPU is blocklisted, chrome://gpu says why; chrome://flags/#ignore-gpu-blocklist overrides it.',
  ]) how.append(element('li', '', line));
  const note = element('p', 'hint', 'The single example still works: its numbers come from the float64 reference on the CPU. '
    + 'The batch, linear head, training and benchmark views need WebGPU.');
  section.replaceChildren(head, how, note);
}

/**
 * What the library uses on this adapter: subgroups when its kernels chose them (not on a software
 * adapter, where they measured slower), else core WebGPU only; every kernel is barrier-free.
 */
export function showLibraryFeatures(section: HTMLElement, subgroupSize: number): void {
  const shown = section.querySelector('dd[data-key="used"]');
  if (shown === null) return;
  shown.textContent = subgroupSize > 0
    ? `subgroups (size ${subgroupSize}) in the row statistics; no workgroup barriers`
    : 'core WebGPU only: no subgroups (not offered, or slower on a software adapter); no workgroup barriers';
}
