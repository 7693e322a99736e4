/**
 * The benchmark view's key and table. The key says what each row of a run measures, floors apart
 * from implementations; bench/chart.ts holds the names, colours and sentences. The table has one
 * column per shape and one row per floor or implementation, grouped as the key is, so that a full
 * run's nine shapes fit the page's width.
 */
import { IMPLS, ROOFLINES, type BenchEntry } from '../bench/chart.js';
import { findRow, ratioToRoofline, rooflineMs, speedUp, type BenchRow } from '../bench/ratios.js';
import { TOLERANCES } from '../src/index.js';
import { COLORS } from './charts.js';
import { element } from './dom.js';
import { formatError, formatMs, formatRatio, formatShape } from './format.js';

/** Our implementations against TF.js's: forward against forward, forward + gradient against the same. */
export const AGAINST_TFJS = [
  ['ours-forward', 'tfjs-webgpu', 'forward', COLORS.primary],
  ['ours-forward-grad', 'tfjs-webgpu-grad', 'forward + gradient', COLORS.primaryLight],
] as const;

/** A loss this far from the reference (relative) is flagged in the table: ten times the reduced loss's rtol. */
const SUSPECT_REL_ERROR = 10 * TOLERANCES.reducedLoss.rtol;

const GROUPS: Record<BenchEntry['kind'], { title: string; intro: string; unit: string }> = {
  floor: {
    title: 'Floors: references to compare against',
    intro: 'The least work any cross-entropy needs, timed on the same GPU in the same run: reading the logits '
      + '(and writing one value per logit, for a gradient), then the least arithmetic a softmax adds. Nobody would '
      + 'call these; an implementation close to them is close to what the hardware allows.',
    unit: 'the rooflines in milliseconds, each floor × its roofline',
  },
  implementation: {
    title: 'Implementations: cross-entropy itself',
    intro: 'What you could call: this library (ours-…), TensorFlow.js and jax-js on the same GPU, and the '
      + 'float64 reference on the CPU. Each bar is its median time over its roofline’s: 1× would be as fast as '
      + 'just reading the data.',
    unit: '× the roofline: lower is better',
  },
};

const KINDS = ['floor', 'implementation'] as const;

/** The key: for floors, then implementations, a swatch (the rooflines: the 1× they define), the name and its sentence. */
export function fillKey(key: HTMLElement): void {
  key.replaceChildren(...KINDS.map((kind) => {
    const section = element('section', 'key-group');
    section.dataset.kind = kind;
    const list = element('ul');
    const entries: (BenchEntry & { color?: string })[] = [...ROOFLINES, ...IMPLS].filter((e) => e.kind === kind);
    for (const entry of entries) {
      const item = element('li');
      item.dataset.impl = entry.impl;
      const swatch = element('span', entry.color ? 'swatch' : 'swatch roofline', entry.color ? '' : '1×');
      if (entry.color) swatch.style.background = entry.color;
      item.append(swatch, element('code', '', entry.impl), element('span', 'about', entry.about));
      list.append(item);
    }
    section.append(element('h3', '', GROUPS[kind].title), element('p', 'hint', GROUPS[kind].intro), list);
    return section;
  }));
}

/** A row of the table: its name (with its sentence on hover), then one cell per shape. */
function tableRow(name: string, about: string, cells: HTMLTableCellElement[]): HTMLTableRowElement {
  const tr = element('tr');
  tr.dataset.impl = name;
  const th = element('th');
  th.scope = 'row';
  th.title = about;
  th.append(element('code', '', name));
  tr.append(th, ...cells);
  return tr;
}

function groupRow(title: string, columns: number): HTMLTableRowElement {
  const tr = element('tr', 'group');
  const th = element('th', '', title);
  th.colSpan = columns;
  th.scope = 'colgroup';
  tr.append(th);
  return tr;
}

/** One implementation's ratio at one shape; its times and its loss's error on hover; red where the loss is off. */
function ratioCell(rows: readonly BenchRow[], shape: readonly number[], impl: string): HTMLTableCellElement {
  const row = findRow(rows, shape, impl);
  const cell = element('td', 'num', formatRatio(ratioToRoofline(rows, shape, impl)));
  if (row) {
    const roof = rooflineMs(rows, shape, impl);
    cell.title = row.median_ms === null ? (row.note ?? 'not timed')
      : `${formatMs(row.median_ms)} median of ${row.runs}; roofline ${roof === null ? '—' : formatMs(roof)}; `
        + `relative error ${row.rel_error === null ? '—' : formatError(row.rel_error)}`;
    if (row.rel_error !== null && row.rel_error > SUSPECT_REL_ERROR) cell.classList.add('fail');
  }
  return cell;
}

/** The table of a run: shapes across, floors and implementations down, then ours against TF.js. */
export function fillTable(table: HTMLTableElement, rows: readonly BenchRow[], shapes: readonly number[][]): void {
  const head = element('tr');
  head.append(element('th'));
  for (const shape of shapes) {
    const th = element('th', 'num', formatShape(shape));
    th.scope = 'col';
    th.dataset.shape = JSON.stringify(shape);
    head.append(th);
  }
  table.tHead!.replaceChildren(head);
  const columns = shapes.length + 1;
  const present = (impl: string) => rows.some((r) => r.impl === impl);
  const body: HTMLTableRowElement[] = [];
  for (const kind of KINDS) {
    body.push(groupRow(`${GROUPS[kind].title} (${GROUPS[kind].unit})`, columns));
    for (const { impl, about } of ROOFLINES.filter((e) => e.kind === kind && present(e.impl))) {
      body.push(tableRow(impl, about, shapes.map((shape) => {
        const ms = findRow(rows, shape, impl)?.median_ms ?? null;
        return element('td', 'num', ms === null ? '—' : formatMs(ms));
      })));
    }
    for (const { impl, about } of IMPLS.filter((e) => e.kind === kind && present(e.impl))) {
      body.push(tableRow(impl, about, shapes.map((shape) => ratioCell(rows, shape, impl))));
    }
  }
  body.push(groupRow('Ours against TF.js (× faster: higher is better)', columns));
  for (const [ours, peer, label] of AGAINST_TFJS) {
    const tr = tableRow(`${ours} vs ${peer}`, `How many times faster ${ours} is than ${peer} (${label})`,
      shapes.map((shape) => element('td', 'num', formatRatio(speedUp(rows, shape, ours, peer)))));
    tr.classList.add('against');
    body.push(tr);
  }
  table.tBodies[0]!.replaceChildren(...body);
}
