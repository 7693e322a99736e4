// The benchmark's ratios as an SVG chart: one group per shape, one bar per implementation, the
// bar's length its median time over its roofline's (log scale; 1 is the roofline itself); ours with
// 16-bit logits, where a run has them, over the 16-bit roofline.
import type { Dtype, HalfDtype } from '../src/index.js';
import { dtypesOf, ratioToRoofline, shapesOf, type BenchRow } from './ratios.js';

/** A benchmark row's name, what it is (a floor to compare against, or an implementation) and what it measures. */
export interface BenchEntry {
  readonly impl: string;
  readonly kind: 'floor' | 'implementation';
  readonly about: string;
}

/**
 * What a benchmark's rows measure, each in one sentence for someone new to GPUs (the demo page's key
 * and table show them). The rooflines are what every ratio is divided by: roofline-read for what
 * only reads the logits, roofline-copy for what also writes one value per logit (a gradient, a softmax).
 */
export const ROOFLINES: readonly BenchEntry[] = [
  { impl: 'roofline-read', kind: 'floor', about: 'The fastest kernel we could write that just reads every logit once '
    + '(adding them up) and reads the sum back: about the least time any GPU forward pass can take, so forward times are divided by it.' },
  { impl: 'roofline-copy', kind: 'floor', about: 'The same, but also writing every value once to a second buffer, as a '
    + 'gradient must: about the least time a forward + gradient pass can take, so gradient times are divided by it.' },
];

/**
 * The rows a chart shows, each with its colour (the demo page uses the same): floors (a roofline plus
 * the least arithmetic a softmax needs: references to compare against), then implementations
 * (cross-entropy itself: this library, its peers and the float64 reference).
 */
export const IMPLS: readonly (BenchEntry & { readonly color: string })[] = [
  { impl: 'floor-exp-read', color: '#a0aec0', kind: 'floor',
    about: 'The read roofline taking exp() of every logit: the least arithmetic any softmax adds to reading.' },
  { impl: 'floor-exp-copy', color: '#cbd5e0', kind: 'floor',
    about: 'The copy roofline writing exp() of every logit instead of the logit itself.' },
  { impl: 'floor-softmax-read', color: '#319795', kind: 'floor',
    about: 'A one-pass log-sum-exp over all the logits as one long row (a running max and a rescaled sum): '
      + 'the least a one-pass softmax does, with no rows, targets or loss.' },
  { impl: 'floor-softmax-copy', color: '#81e6d9', kind: 'floor',
    about: 'That log-sum-exp, then the softmax exp(x − log-sum-exp) written for every logit, as a gradient pass writes it.' },
  { impl: 'floor-exact-read', color: '#2c7a7b', kind: 'floor',
    about: "The softmax floor plus this library's bookkeeping for accuracy (a compensated sum, values at the max "
      + 'counted apart): what exactness costs before any rows or targets.' },
  { impl: 'floor-exact-copy', color: '#4fd1c5', kind: 'floor',
    about: "The exact floor's log-sum-exp, then the softmax written for every logit." },
  { impl: 'ours-forward', color: '#2b6cb0', kind: 'implementation',
    about: "This library's forward(): the mean loss of logits and targets already on the GPU, read back on the host." },
  { impl: 'ours-forward-subgroups', color: '#805ad5', kind: 'implementation',
    about: 'The same forward with subgroup operations (neighbouring GPU threads sharing values directly) forced on; '
      + 'timed for [N, C] shapes with C a multiple of 4, where the adapter has them.' },
  { impl: 'ours-forward-grad', color: '#63b3ed', kind: 'implementation',
    about: 'This library computing the loss and its gradient (one value per logit, left on the GPU) in one call, the loss read back.' },
  { impl: 'jaxjs-webgpu', color: '#c05621', kind: 'implementation',
    about: 'jax-js (JAX for JavaScript) on WebGPU: log-softmax and a gather of the target, compiled with jit.' },
  { impl: 'jaxjs-webgpu-grad', color: '#f6ad55', kind: 'implementation',
    about: "jax-js's loss and gradient through valueAndGrad (run without jit, which fails to compile this gradient)." },
  { impl: 'tfjs-webgpu', color: '#9b2c2c', kind: 'implementation',
    about: "TensorFlow.js's tf.losses.softmaxCrossEntropy (one-hot targets) on its WebGPU backend, on the same device." },
  { impl: 'tfjs-webgpu-grad', color: '#fc8181', kind: 'implementation',
    about: 'The same TensorFlow.js loss with its gradient, through tf.valueAndGrad.' },
  { impl: 'cpu-reference', color: '#4a5568', kind: 'implementation',
    about: "This library's float64 reference in plain JavaScript on the CPU, which every loss is checked against; "
      + 'with no GPU round trip it can beat the floors on tiny inputs.' },
];
/**
 * Ours with 16-bit logits, as the SVG chart draws it after the float32 rows (the demo page shows
 * float32 only): each over the roofline that reads the same 16-bit values.
 */
export const HALF_IMPLS: readonly { readonly impl: string; readonly dtype: HalfDtype; readonly color: string }[] = [
  { impl: 'ours-forward', dtype: 'float16', color: '#2f855a' },
  { impl: 'ours-forward-grad', dtype: 'float16', color: '#68d391' },
  { impl: 'ours-forward', dtype: 'bfloat16', color: '#b7791f' },
  { impl: 'ours-forward-grad', dtype: 'bfloat16', color: '#f6e05e' },
];

/** A bar of each group: an implementation in a dtype, its colour and its legend label. */
interface Series {
  readonly impl: string;
  readonly dtype: Dtype;
  readonly color: string;
  readonly label: string;
}

/** The bars of a run's chart: every float32 row, then the 16-bit ones of the dtypes it timed. */
function seriesOf(rows: readonly BenchRow[]): Series[] {
  const dtypes = dtypesOf(rows);
  return [
    ...IMPLS.map(({ impl, color }) => ({ impl, dtype: 'float32' as const, color, label: impl })),
    ...HALF_IMPLS.filter(({ dtype }) => dtypes.includes(dtype))
      .map(({ impl, dtype, color }) => ({ impl, dtype, color, label: `${impl} (${dtype})` })),
  ];
}

const WIDTH = 960;
const LEFT = 170;
const BAR = 9;
const GAP = 14;
const MAX_RATIO = 100;
/** Width of one character of the legend's 10 px labels, and the space after each entry. */
const LEGEND_CHAR = 5.8;
const LEGEND_SPACING = 18;
const LEGEND_LINE = 15;

function escape(text: unknown): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** The legend's entries, wrapped onto as many lines as the width needs; `bottom` is below the last. */
function legend(series: readonly Series[]): { svg: string; bottom: number } {
  let x = LEFT;
  let y = 28;
  const entries = series.map(({ label, color }) => {
    const width = 14 + label.length * LEGEND_CHAR + LEGEND_SPACING;
    if (x + width > WIDTH && x > LEFT) {
      x = LEFT;
      y += LEGEND_LINE;
    }
    const entry = `<rect x="${x}" y="${y}" width="10" height="10" fill="${color}"/>`
      + `<text x="${x + 14}" y="${y + 9}" font-size="10">${label}</text>`;
    x += width;
    return entry;
  });
  return { svg: entries.join(''), bottom: y + 10 };
}

export function ratioChart({ adapter, rows }: { adapter: Record<string, unknown>; rows: readonly BenchRow[] }): string {
  const x = (ratio: number) => LEFT + ((WIDTH - LEFT - 40) * Math.log10(Math.max(ratio, 1))) / Math.log10(MAX_RATIO);
  const parts: string[] = [];
  const series = seriesOf(rows);
  const key = legend(series);
  const top = key.bottom + 12;
  let y = top + 10;
  for (const shape of shapesOf(rows)) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="600">[${escape(shape.join(', '))}]</text>`);
    for (const { impl, dtype, color } of series) {
      const ratio = ratioToRoofline(rows, shape, impl, dtype);
      if (ratio !== null) {
        parts.push(`<rect x="${LEFT}" y="${y}" width="${Math.max(1, x(ratio) - LEFT)}" height="${BAR}" fill="${color}"/>`);
        parts.push(`<text x="${x(ratio) + 4}" y="${y + 8}" font-size="9">${ratio.toFixed(ratio < 10 ? 2 : 0)}×</text>`);
      }
      y += BAR + 2;
    }
    y += GAP;
  }
  const ticks = [1, 1.25, 1.5, 2, 5, 10, 20, 50, 100].map((t) =>
    `<line x1="${x(t)}" y1="${top}" x2="${x(t)}" y2="${y}" stroke="#e2e8f0"/>`
    + `<text x="${x(t)}" y="${y + 14}" font-size="10" text-anchor="middle">${t}×</text>`).join('');
  const height = y + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="13" font-weight="600">Median time over the roofline (read for forward, copy for gradient; 16-bit over 16-bit), log scale; adapter ${escape(adapter.vendor)} ${escape(adapter.architecture)}</text>
${key.svg}${ticks}${parts.join('\n')}
</svg>
`;
}
