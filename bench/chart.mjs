// The benchmark's ratios as an SVG chart: one group per shape, one bar per implementation, the
// bar's length its median time over its roofline's (log scale; 1 is the roofline itself).
import { ratioToRoofline, shapesOf } from './ratios.mjs';

/** The implementations a chart shows, each with its colour (the demo page uses the same). */
export const IMPLS = [
  ['floor-exp-read', '#a0aec0'], ['floor-exp-copy', '#cbd5e0'],
  ['floor-softmax-read', '#319795'], ['floor-softmax-copy', '#81e6d9'],
  ['floor-exact-read', '#2c7a7b'], ['floor-exact-copy', '#4fd1c5'],
  ['ours-forward', '#2b6cb0'], ['ours-forward-subgroups', '#805ad5'], ['ours-forward-grad', '#63b3ed'],
  ['jaxjs-webgpu', '#c05621'], ['jaxjs-webgpu-grad', '#f6ad55'],
  ['tfjs-webgpu', '#9b2c2c'], ['tfjs-webgpu-grad', '#fc8181'],
  ['cpu-reference', '#4a5568'],
];
const WIDTH = 960;
const LEFT = 170;
const BAR = 9;
const GAP = 14;
const MAX_RATIO = 100;
/** Width of one character of the legend's 10 px labels, and the space after each entry. */
const LEGEND_CHAR = 5.8;
const LEGEND_SPACING = 18;
const LEGEND_LINE = 15;

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** The legend's entries, wrapped onto as many lines as the width needs; `bottom` is below the last. */
function legend() {
  let x = LEFT;
  let y = 28;
  const entries = IMPLS.map(([impl, color]) => {
    const width = 14 + impl.length * LEGEND_CHAR + LEGEND_SPACING;
    if (x + width > WIDTH && x > LEFT) {
      x = LEFT;
      y += LEGEND_LINE;
    }
    const entry = `<rect x="${x}" y="${y}" width="10" height="10" fill="${color}"/>`
      + `<text x="${x + 14}" y="${y + 9}" font-size="10">${impl}</text>`;
    x += width;
    return entry;
  });
  return { svg: entries.join(''), bottom: y + 10 };
}

export function ratioChart({ adapter, rows }) {
  const x = (ratio) => LEFT + ((WIDTH - LEFT - 40) * Math.log10(Math.max(ratio, 1))) / Math.log10(MAX_RATIO);
  const parts = [];
  const key = legend();
  const top = key.bottom + 12;
  let y = top + 10;
  for (const shape of shapesOf(rows)) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="600">[${escape(shape.join(', '))}]</text>`);
    for (const [impl, color] of IMPLS) {
      const ratio = ratioToRoofline(rows, shape, impl);
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
<text x="10" y="18" font-size="13" font-weight="600">Median time over the roofline (read for forward, copy for gradient), log scale; adapter ${escape(adapter.vendor)} ${escape(adapter.architecture)}</text>
${key.svg}${ticks}${parts.join('\n')}
</svg>
`;
}
