/**
 * The batch view: a seeded random problem of N rows and C classes (the test suite's own generator,
 * problems/cases.ts, so a case seen here can be replayed in a test), run on the GPU, timed, and
 * checked against the float64 reference with the library's tolerances (TOLERANCES, docs/accuracy.md).
 *
 * #batch-result carries the figures in data attributes (data-loss, data-loss-max-abs, data-ok, ...).
 */
import {
  compareWithReference, crossEntropyReference, reducedLossTolerance, TOLERANCES,
  type Comparison, type CrossEntropy, type Reduction, type ReferenceResult,
} from '../src/index.js';
import { buildCase, type CaseSpec } from '../problems/cases.js';
import { byId, element, messageOf } from './dom.js';
import { formatBytes, formatCount, formatError, formatMs, formatNumber, formatShape, formatTolerance } from './format.js';

/** Above this many logits the page refuses: the float64 reference and its gradient would need GBs. */
const MAX_ELEMENTS = 1 << 24;
const BYTES_PER_F32 = 4;
/** Per-row losses listed for reduction 'none'. */
const ROWS_LISTED = 4;

type Reference = ReferenceResult;

/** The problem the form describes, or why it cannot be run. */
function readSpec(): CaseSpec {
  const number = (id: string) => Number(byId<HTMLInputElement>(id).value);
  const n = number('batch-n');
  const c = number('batch-c');
  for (const [name, value] of [['N', n], ['C', c]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  }
  if (n * c > MAX_ELEMENTS) {
    throw new RangeError(`N·C = ${formatCount(n * c)} logits is over this page's ${formatCount(MAX_ELEMENTS)} `
      + '(the float64 reference and gradient would need gigabytes)');
  }
  const targetKind = byId<HTMLSelectElement>('batch-target').value as CaseSpec['targetKind'];
  return {
    shape: [n, c], targetKind, values: 'normal', seed: number('batch-seed'),
    reduction: byId<HTMLSelectElement>('batch-reduction').value as Reduction,
    weighted: byId<HTMLInputElement>('batch-weight').checked,
    labelSmoothing: number('batch-smoothing'),
    ignoredFraction: targetKind === 'classIndex' ? number('batch-ignored') : 0,
    ignoreIndex: number('batch-ignore-index'),
    grad: byId<HTMLInputElement>('batch-grad').checked,
  };
}

/** Lets the browser paint a status line before the next long synchronous step. */
const nextFrame = () => new Promise<void>((resolve) => { setTimeout(resolve, 0); });

function timed<T>(run: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = run();
  return { value, ms: performance.now() - start };
}

interface Outcome {
  readonly spec: CaseSpec;
  readonly gpu: { loss: number | Float32Array; grad?: Float32Array };
  readonly reference: Reference;
  readonly loss: Comparison;
  readonly grad?: Comparison;
  readonly ok: boolean;
  readonly ms: { generate: number; gpuFirst: number; gpuRepeat: number; reference: number };
}

export class BatchView {
  readonly #ce: CrossEntropy | null;
  readonly #result = byId('batch-result');

  constructor(ce: CrossEntropy | null) {
    this.#ce = ce;
    const form = byId<HTMLFormElement>('batch-form');
    form.addEventListener('input', () => this.#describeSize());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#run();
    });
    byId<HTMLSelectElement>('batch-target').addEventListener('change', () => this.#syncTargetOptions());
    this.#syncTargetOptions();
    this.#describeSize();
    if (!ce) {
      byId<HTMLButtonElement>('batch-run').disabled = true;
      this.#result.replaceChildren(element('p', 'placeholder', 'The batch view needs WebGPU (see the adapter card above).'));
    }
  }

  /** ignoreIndex and the ignored fraction apply to class-index targets only, as in PyTorch. */
  #syncTargetOptions(): void {
    const classIndex = byId<HTMLSelectElement>('batch-target').value === 'classIndex';
    for (const id of ['batch-ignored', 'batch-ignore-index']) byId<HTMLInputElement>(id).disabled = !classIndex;
  }

  #describeSize(): void {
    const n = Number(byId<HTMLInputElement>('batch-n').value);
    const c = Number(byId<HTMLInputElement>('batch-c').value);
    const size = byId('batch-size');
    size.textContent = Number.isFinite(n * c)
      ? `${formatCount(n * c)} logits (${formatBytes(n * c * BYTES_PER_F32)} of f32)${n * c > MAX_ELEMENTS ? ': too large for this page' : ''}`
      : '';
  }

  async #run(): Promise<void> {
    const button = byId<HTMLButtonElement>('batch-run');
    button.disabled = true;
    this.#result.dataset.state = 'running';
    try {
      const outcome = await this.#compute(readSpec());
      this.#show(outcome);
    } catch (error) {
      this.#result.dataset.state = 'error';
      this.#result.replaceChildren(element('p', 'check fail', `Could not run: ${messageOf(error)}`));
    } finally {
      button.disabled = false;
    }
  }

  #status(text: string): void {
    const line = element('p', 'placeholder busy', text);
    this.#result.replaceChildren(line);
  }

  async #compute(spec: CaseSpec): Promise<Outcome> {
    const ce = this.#ce!;
    this.#status(`Generating ${formatShape(spec.shape)} (seed ${spec.seed})…`);
    await nextFrame();
    const { value: built, ms: generate } = timed(() => buildCase(spec));
    this.#status('Running on the GPU (the first call compiles its pipelines)…');
    await nextFrame();
    let start = performance.now();
    await ce.forward(built.logits, built.target, built.options);
    const gpuFirst = performance.now() - start;
    start = performance.now();
    const gpu = await ce.forward(built.logits, built.target, built.options);
    const gpuRepeat = performance.now() - start;
    this.#status('Computing the float64 reference on the CPU…');
    await nextFrame();
    const { value: reference, ms } = timed(() => crossEntropyReference(built.logits, built.target, built.options));
    const check = compareWithReference(gpu, reference);
    return { spec, gpu, reference, loss: check.loss, ...(check.grad ? { grad: check.grad } : {}), ok: check.ok,
      ms: { generate, gpuFirst, gpuRepeat, reference: ms } };
  }

  #show(o: Outcome): void {
    const lossNumber = typeof o.gpu.loss === 'number';
    Object.assign(this.#result.dataset, {
      state: 'done', ok: String(o.ok), spec: JSON.stringify(o.spec),
      loss: lossNumber ? String(o.gpu.loss) : '', referenceLoss: typeof o.reference.loss === 'number' ? String(o.reference.loss) : '',
      lossMaxAbs: String(o.loss.maxAbsError), lossMaxRel: String(o.loss.maxRelError), lossOk: String(o.loss.ok),
      gradMaxAbs: o.grad ? String(o.grad.maxAbsError) : '', gradMaxRel: o.grad ? String(o.grad.maxRelError) : '',
      gradOk: o.grad ? String(o.grad.ok) : '', gpuMs: String(o.ms.gpuRepeat),
    });
    const verdict = element('p', `verdict ${o.ok ? 'pass' : 'fail'}`, o.ok
      ? '✓ pass: the GPU agrees with the float64 reference within the library\'s tolerances'
      : '✗ fail: outside the library\'s tolerances');
    verdict.id = 'batch-verdict';
    this.#result.replaceChildren(verdict, this.#lossFigures(o), this.#timeFigures(o), this.#checkTable(o));
  }

  #lossFigures(o: Outcome): HTMLElement {
    const list = element('dl', 'figures');
    const add = (term: string, value: string, className = '') => list.append(element('dt', '', term), element('dd', className, value));
    if (typeof o.gpu.loss === 'number') {
      add(`loss (${o.spec.reduction}) on the GPU`, formatNumber(o.gpu.loss, 9), 'big');
      add('loss in float64 (reference)', formatNumber(o.reference.loss as number, 12));
    } else {
      const rows = [...o.gpu.loss.subarray(0, ROWS_LISTED)].map((v) => formatNumber(v, 6)).join(', ');
      add(`per-row losses on the GPU (${formatCount(o.gpu.loss.length)})`, `${rows}${o.gpu.loss.length > ROWS_LISTED ? ', …' : ''}`, 'big');
    }
    add('problem', `${formatShape(o.spec.shape)}, ${o.spec.targetKind === 'classIndex' ? 'class indices' : 'class probabilities'}`
      + `${o.spec.weighted ? ', weighted' : ''}${o.spec.labelSmoothing ? `, ε = ${o.spec.labelSmoothing}` : ''}`
      + `${o.spec.ignoredFraction ? `, ${o.spec.ignoredFraction * 100}% of rows ignored (ignoreIndex ${o.spec.ignoreIndex})` : ''}`
      + `${o.spec.grad ? ', with gradient' : ''}, seed ${o.spec.seed}`);
    return list;
  }

  #timeFigures(o: Outcome): HTMLElement {
    const list = element('dl', 'figures times');
    const add = (term: string, value: string) => list.append(element('dt', '', term), element('dd', '', value));
    add('GPU, repeated call', `${formatMs(o.ms.gpuRepeat)} (upload, kernels, readback)`);
    add('GPU, first call', `${formatMs(o.ms.gpuFirst)} (compiles this variant's pipelines)`);
    add('float64 reference, CPU', `${formatMs(o.ms.reference)}${o.ms.gpuRepeat > 0 ? ` (${formatNumber(o.ms.reference / o.ms.gpuRepeat, 2)}× the GPU's time)` : ''}`);
    add('generating the data', formatMs(o.ms.generate));
    return list;
  }

  #checkTable(o: Outcome): HTMLElement {
    const table = element('table', 'check-table');
    table.createCaption().textContent = 'GPU (f32) against the float64 reference';
    const head = table.createTHead().insertRow();
    for (const title of ['', 'values', 'max |Δ|', 'max |Δ| / |expected|', 'allowed', '']) head.append(element('th', '', title));
    const body = table.createTBody();
    const tolerance = typeof o.reference.loss === 'number'
      ? `|Δ| ≤ ${formatError(reducedLossTolerance(o.reference))} (${formatTolerance(TOLERANCES.reducedLoss.rtol)}·Σ|l| + `
        + `${formatTolerance(TOLERANCES.reducedLoss.atol)} per row)`
      : `|Δ| ≤ ${formatTolerance(TOLERANCES.rowLoss.atol)} + ${formatTolerance(TOLERANCES.rowLoss.rtol)}·|l| per row`;
    const rows: [string, Comparison, string][] = [['loss', o.loss, tolerance]];
    if (o.grad) rows.push(['gradient', o.grad, `|Δ| ≤ ${formatTolerance(TOLERANCES.grad.atol)} + ${formatTolerance(TOLERANCES.grad.rtol)}·|g| each`]);
    for (const [name, c, allowed] of rows) {
      const row = body.insertRow();
      row.dataset.quantity = name;
      for (const [text, className] of [[name, 'name'], [formatCount(c.count), 'num'], [formatError(c.maxAbsError), 'num'],
        [formatError(c.maxRelError), 'num'], [allowed, 'allowed'], [c.ok ? 'pass' : `fail (${c.mismatchCount})`, c.ok ? 'badge pass' : 'badge fail']]) {
        row.append(element('td', className, text));
      }
    }
    const note = element('p', 'hint', 'The relative error is large where the expected value is near 0 (most of a gradient); '
      + 'the absolute term of the tolerance covers those.');
    const wrapper = element('div', 'check-wrapper');
    wrapper.append(table, note);
    return wrapper;
  }
}
