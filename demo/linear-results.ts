/**
 * What the linear head view shows after a run: the verdict, the loss, the GPU memory the call held
 * at its peak beside what materialised logits (and their gradient) would take, the times, and the
 * check against the float64 reference, quantity by quantity, with the tolerances it was held to.
 */
import { type GpuMemory, type LinearReferenceResult, type LinearResult } from '../src/index.js';
import { element } from './dom.js';
import { DTYPE_INFO, isHalf, type Rounding } from './dtype.js';
import { gradDtypeOf, logitBytes, type CheckedQuantity, type LinearSpec } from './linear-data.js';
import { formatBytes, formatCount, formatError, formatMs, formatNumber, formatShape, formatTolerance } from './format.js';

/** Per-row losses listed for reduction 'none'. */
const ROWS_LISTED = 4;

export interface LinearOutcome {
  readonly spec: LinearSpec;
  readonly rounding: Rounding;
  /** The result of the call on all N rows (its repeat). */
  readonly gpu: LinearResult;
  /** The most GPU memory the instance held during the first call: all of it the call's own. */
  readonly peak: GpuMemory;
  /** What it held after the second call (the prepared call, kept for reuse). */
  readonly held: GpuMemory;
  readonly check: {
    /** Rows the reference ran on: N, or the first rows only (then run on the GPU as a call of their own). */
    readonly rows: number;
    readonly gpuLoss: number | Float32Array;
    readonly reference: LinearReferenceResult;
    readonly quantities: readonly CheckedQuantity[];
    readonly ok: boolean;
  };
  readonly ms: { generate: number; gpuFirst: number; gpuRepeat: number; reference: number };
}

type Add = (term: string, value: string | HTMLElement, className?: string) => void;

function figures(className: string): { list: HTMLDListElement; add: Add } {
  const list = element('dl', `figures ${className}`.trim());
  const add: Add = (term, value, ddClass = '') => {
    const dd = element('dd', ddClass);
    dd.append(value);
    list.append(element('dt', '', term), dd);
  };
  return { list, add };
}

const all = (o: LinearOutcome) => o.check.rows === o.spec.rows;

export function showLinearOutcome(result: HTMLElement, o: LinearOutcome): void {
  const { spec, check } = o;
  const loss = check.quantities.find((q) => q.name === 'loss')!.comparison;
  Object.assign(result.dataset, {
    state: 'done', ok: String(check.ok), spec: JSON.stringify(spec), dtype: spec.dtype,
    loss: typeof o.gpu.loss === 'number' ? String(o.gpu.loss) : '',
    checkScope: all(o) ? 'all' : 'first-rows', checkedRows: String(check.rows),
    checkedLoss: typeof check.gpuLoss === 'number' ? String(check.gpuLoss) : '',
    referenceLoss: typeof check.reference.loss === 'number' ? String(check.reference.loss) : '',
    lossMaxAbs: String(loss.maxAbsError), lossOk: String(loss.ok),
    quantities: JSON.stringify(check.quantities.map((q) => q.name)),
    peakBytes: String(o.peak.bytes), peakBuffers: String(o.peak.buffers), logitBytes: String(logitBytes(spec)),
    gpuMs: String(o.ms.gpuRepeat),
  });
  const scope = all(o) ? '' : ` on the first ${formatCount(check.rows)} of ${formatCount(spec.rows)} rows`;
  const verdict = element('p', `verdict ${check.ok ? 'pass' : 'fail'}`, check.ok
    ? `✓ pass${scope}: the GPU agrees with the float64 reference within the linear head's tolerances`
    : `✗ fail${scope}: outside the linear head's tolerances`);
  verdict.id = 'linear-verdict';
  result.replaceChildren(verdict, lossFigures(o), memoryFigures(o), timeFigures(o), checkTable(o));
}

function lossFigures(o: LinearOutcome): HTMLElement {
  const { spec } = o;
  const { list, add } = figures('');
  if (typeof o.gpu.loss === 'number') {
    add(`loss (${spec.reduction}) on the GPU`, formatNumber(o.gpu.loss, 9), 'big');
    if (all(o)) add('loss in float64 (reference)', formatNumber(o.check.reference.loss as number, 12));
  } else {
    const rows = [...o.gpu.loss.subarray(0, ROWS_LISTED)].map((v) => formatNumber(v, 6)).join(', ');
    add(`per-row losses on the GPU (${formatCount(o.gpu.loss.length)})`, `${rows}${o.gpu.loss.length > ROWS_LISTED ? ', …' : ''}`, 'big');
  }
  add('problem', `hidden ${formatShape([spec.rows, spec.depth])} · classifier ${formatShape([spec.classes, spec.depth])}ᵀ`
    + `${spec.bias ? ' + bias' : ''}, both ${spec.dtype}; seed ${spec.seed}`);
  const options = [
    spec.weighted ? 'per-class weight' : '', spec.labelSmoothing ? `label smoothing ${spec.labelSmoothing}` : '',
    spec.ignoredFraction ? `${spec.ignoredFraction * 100}% of rows ignored (ignoreIndex ${spec.ignoreIndex})` : '',
    spec.zLoss ? `z-loss ${spec.zLoss}` : '', spec.softcap ? `softcap ${spec.softcap}` : '',
  ].filter(Boolean);
  add('options', options.length ? options.join(', ') : 'none');
  const grads = (['hidden', 'classifier', 'bias'] as const).filter((name) => spec.grad[name])
    .map((name) => `d(${name}) in ${gradDtypeOf(spec, name)}`);
  add('gradients', grads.length ? `${grads.join(', ')}${spec.reduction === 'none' ? ' (upstream gradient: ones)' : ''}`
    : 'none asked for');
  if (isHalf(spec.dtype)) {
    add(`rounded to ${spec.dtype}`, `to nearest even from the float32 draw, which moved by up to ${formatError(o.rounding.maxAbsChange)} `
      + `(${formatError(o.rounding.maxRelChange)} relative); the reference reads the same ${spec.dtype} values`);
  }
  return list;
}

/** Bytes of the arrays a call takes and gives back, at their dtypes: what any implementation holds. */
function arrayBytes(spec: LinearSpec): number {
  const input = DTYPE_INFO[spec.dtype].bytes;
  const grad = (name: 'hidden' | 'classifier') => DTYPE_INFO[gradDtypeOf(spec, name)].bytes;
  const perClass = (spec.bias ? 4 : 0) + (spec.weighted ? 4 : 0) + (spec.grad.bias ? 4 : 0);
  return spec.rows * spec.depth * (input + (spec.grad.hidden ? grad('hidden') : 0))
    + spec.classes * spec.depth * (input + (spec.grad.classifier ? grad('classifier') : 0))
    + spec.rows * 4 + spec.classes * perClass;
}

function memoryFigures(o: LinearOutcome): HTMLElement {
  const { spec, peak } = o;
  const logits = logitBytes(spec);
  const section = element('section', 'linear-memory');
  section.setAttribute('aria-labelledby', 'linear-memory-title');
  const title = element('h3', '', 'GPU memory');
  title.id = 'linear-memory-title';
  const bars: [string, number, string][] = [
    [`ce.linear's peak (${formatCount(peak.buffers)} buffers)`, peak.bytes, 'peak'],
    [`logits N × V, float32`, logits, 'logits'],
    ['logits and their gradient', 2 * logits, 'logits-grad'],
  ];
  const largest = Math.max(...bars.map(([, bytes]) => bytes), 1);
  const chart = element('div', 'memory-bars');
  chart.id = 'linear-memory-bars';
  for (const [label, bytes, kind] of bars) {
    const row = element('div', `memory-bar ${kind}`);
    row.dataset.kind = kind;
    const track = element('span', 'track');
    const fill = element('span', 'fill');
    fill.style.width = `${(100 * bytes) / largest}%`;
    track.append(fill);
    row.append(element('span', 'label', label), track, element('span', 'value', formatBytes(bytes)));
    chart.append(row);
  }
  const { list, add } = figures('');
  add('the peak', `${formatNumber(peak.bytes / logits, 3)} × the logits alone, ${formatNumber(peak.bytes / (2 * logits), 3)} × `
    + 'the logits and their gradient');
  add('of which arrays in and out', `${formatBytes(arrayBytes(spec))}: hidden, classifier, targets${spec.bias ? ', bias' : ''}`
    + `${spec.weighted ? ', weight' : ''} and the gradients asked for, at their dtypes`);
  add('memory budget', `${formatBytes(spec.memoryBudget)} of logits a chunk of rows may hold`);
  add('held after the call', `${formatBytes(o.held.bytes)} in ${formatCount(o.held.buffers)} buffers (the prepared call, kept for reuse)`);
  section.append(title, chart, list, element('p', 'hint', 'The peak is measured by ce.gpuMemoryPeak() over the first call, on a '
    + 'CrossEntropy made for this run alone: every buffer the library created, uploads, scratch and read-back staging included.'));
  return section;
}

function timeFigures(o: LinearOutcome): HTMLElement {
  const { list, add } = figures('times');
  add('GPU, repeated call', `${formatMs(o.ms.gpuRepeat)} (upload, matmuls and row kernels, readback)`);
  add('GPU, first call', `${formatMs(o.ms.gpuFirst)} (compiles this variant's pipelines)`);
  add('float64 reference, CPU', `${formatMs(o.ms.reference)} for ${all(o) ? 'all' : 'the first'} ${formatCount(o.check.rows)} rows`);
  add('generating the data', formatMs(o.ms.generate));
  return list;
}

function allowed(q: CheckedQuantity): string {
  const { atol, rtol, dtype } = q.tolerance;
  const half = dtype !== undefined && isHalf(dtype) ? ` + ½ ulp of ${dtype}` : '';
  return `|Δ| ≤ ${formatTolerance(atol)} + ${formatTolerance(rtol)}·|e|${half}${q.name === 'loss' ? '' : ' each'}`;
}

function checkTable(o: LinearOutcome): HTMLElement {
  const { spec, check } = o;
  const table = element('table', 'check-table');
  table.createCaption().textContent = `ce.linear against linearCrossEntropyReference (float64), on the same ${spec.dtype} inputs, `
    + (all(o) ? `all ${formatCount(spec.rows)} rows` : `the first ${formatCount(check.rows)} of ${formatCount(spec.rows)} rows`);
  const head = table.createTHead().insertRow();
  for (const title of ['', 'values', 'max |Δ|', 'max |Δ| / |e|', 'allowed', '']) head.append(element('th', '', title));
  const body = table.createTBody();
  for (const q of check.quantities) {
    const c = q.comparison;
    const row = body.insertRow();
    row.dataset.quantity = q.name;
    const name = q.name === 'loss' ? `loss${spec.reduction === 'none' ? ' per row' : ''}` : `d(${q.name})`;
    for (const [text, className] of [[name, 'name'], [formatCount(c.count), 'num'], [formatError(c.maxAbsError), 'num'],
      [formatError(c.maxRelError), 'num'], [allowed(q), 'allowed'], [c.ok ? 'pass' : `fail (${c.mismatchCount})`, c.ok ? 'badge pass' : 'badge fail']]) {
      row.append(element('td', className, text));
    }
  }
  const wrapper = element('div', 'check-wrapper');
  wrapper.append(table, element('p', 'hint', 'The tolerances are the linear head\'s of docs/accuracy.md, which the library\'s own '
    + 'tests hold ce.linear to: the loss within 10⁻⁵ + 10⁻⁵·|e|, each gradient element within 10⁻⁵·max|e| + 10⁻⁴·|e| (and 2⁻¹²⁶, '
    + 'for a flushed subnormal), scaled by D / 256 past D = 256 (each logit is a sum of D products, and its rounding grows with D). '
    + 'The relative error is large where the expected value is near 0 (most of a gradient); the absolute term covers those.'));
  if (!all(o)) {
    const note = element('p', 'hint', `The reference for all ${formatCount(spec.rows)} rows would take too long on the CPU, so the `
      + `first ${formatCount(check.rows)} rows (with the whole classifier) were run again on the GPU as a call of their own and `
      + 'that call was checked. The loss shown above, over all rows, is not itself checked.');
    note.id = 'linear-subset-note';
    wrapper.append(note);
  }
  return wrapper;
}
