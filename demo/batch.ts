/**
 * The batch view: a seeded random problem of N rows and C classes (the test suite's own generator,
 * problems/cases.ts, so a case seen here can be replayed in a test), its logits stored as the chosen
 * dtype, run on the GPU, timed, and checked against the float64 reference on the same stored values
 * with the library's tolerances (TOLERANCES, docs/accuracy.md).
 *
 * #batch-result carries the figures in data attributes (data-dtype, data-loss, data-loss-max-abs,
 * data-ok, ...).
 */
import {
  compareWithReference, crossEntropyReference, reducedLossTolerance, TOLERANCES,
  type Comparison, type CrossEntropy, type Dtype, type Reduction, type ReferenceResult,
} from '../src/index.js';
import { buildCase, type CaseSpec } from '../problems/cases.js';
import { byId, element, messageOf } from './dom.js';
import { DTYPE_INFO, isDtype, isHalf, storeLogits, type Rounding } from './dtype.js';
import {
  formatBytes, formatCount, formatError, formatMs, formatNumber, formatPowerOfTwo, formatShape, formatTolerance,
} from './format.js';

/** Above this many logits the page refuses: the float64 reference and its gradient would need GBs. */
const MAX_ELEMENTS = 1 << 24;
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

/** How the problem's logits and gradient are stored. */
interface Storage {
  readonly dtype: Dtype;
  /** The gradient's dtype: the logits' (the library's default) or float32. */
  readonly gradDtype: Dtype;
}

function readStorage(): Storage {
  const dtype = byId<HTMLSelectElement>('batch-dtype').value;
  if (!isDtype(dtype)) throw new RangeError(`unknown dtype ${dtype}`);
  return { dtype, gradDtype: byId<HTMLSelectElement>('batch-grad-dtype').value === 'float32' ? 'float32' : dtype };
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
  readonly storage: Storage;
  /** How far storing the draw as the dtype moved the logits. */
  readonly rounding: Rounding;
  /** The gradient comes back as float32 values, or as 16-bit bit patterns. */
  readonly gpu: { loss: number | Float32Array; grad?: Float32Array | Uint16Array };
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
    for (const id of ['batch-dtype', 'batch-grad']) byId(id).addEventListener('change', () => this.#syncDtypeOptions());
    this.#syncTargetOptions();
    this.#syncDtypeOptions();
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

  /**
   * The gradient's dtype is a choice only where there is a gradient and the logits are 16-bit
   * (float32 logits always give a float32 gradient); the hint says what the logits' dtype keeps.
   */
  #syncDtypeOptions(): void {
    const dtype = byId<HTMLSelectElement>('batch-dtype').value;
    const half = isDtype(dtype) && isHalf(dtype);
    byId<HTMLSelectElement>('batch-grad-dtype').disabled = !half || !byId<HTMLInputElement>('batch-grad').checked;
    byId('batch-dtype-hint').textContent = isDtype(dtype)
      ? `${DTYPE_INFO[dtype].about}${half ? ' The draw is rounded to it; the GPU computes in float32 on the rounded values.' : ''}`
      : '';
  }

  #describeSize(): void {
    const n = Number(byId<HTMLInputElement>('batch-n').value);
    const c = Number(byId<HTMLInputElement>('batch-c').value);
    const dtype = byId<HTMLSelectElement>('batch-dtype').value;
    const size = byId('batch-size');
    size.textContent = Number.isFinite(n * c) && isDtype(dtype)
      ? `${formatCount(n * c)} logits (${formatBytes(n * c * DTYPE_INFO[dtype].bytes)} of ${dtype})`
        + `${n * c > MAX_ELEMENTS ? ': too large for this page' : ''}`
      : '';
  }

  async #run(): Promise<void> {
    const button = byId<HTMLButtonElement>('batch-run');
    button.disabled = true;
    this.#result.dataset.state = 'running';
    try {
      const outcome = await this.#compute(readSpec(), readStorage());
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

  async #compute(spec: CaseSpec, storage: Storage): Promise<Outcome> {
    const ce = this.#ce!;
    const rounded = isHalf(storage.dtype) ? `, rounded to ${storage.dtype}` : '';
    this.#status(`Generating ${formatShape(spec.shape)} (seed ${spec.seed})${rounded}…`);
    await nextFrame();
    const { value: { built, logits, rounding }, ms: generate } = timed(() => {
      const built = buildCase(spec);
      return { built, ...storeLogits(built.logits, storage.dtype) };
    });
    // The library's default gradient dtype is the logits': name float32 only where it differs.
    const options = spec.grad && storage.gradDtype !== storage.dtype ? { ...built.options, gradDtype: storage.gradDtype } : built.options;
    this.#status('Running on the GPU (the first call compiles its pipelines)…');
    await nextFrame();
    let start = performance.now();
    await ce.forward(logits, built.target, options);
    const gpuFirst = performance.now() - start;
    start = performance.now();
    const gpu: Outcome['gpu'] = await ce.forward(logits, built.target, options);
    const gpuRepeat = performance.now() - start;
    this.#status(`Computing the float64 reference on the CPU${isHalf(storage.dtype) ? ` from the same ${storage.dtype} values` : ''}…`);
    await nextFrame();
    // The reference is told the gradient's dtype too: the comparison reads a 16-bit gradient in it.
    const { value: reference, ms } = timed(() => crossEntropyReference(logits, built.target, options));
    const check = compareWithReference(gpu, reference);
    return { spec, storage, rounding, gpu, reference, loss: check.loss, ...(check.grad ? { grad: check.grad } : {}), ok: check.ok,
      ms: { generate, gpuFirst, gpuRepeat, reference: ms } };
  }

  #show(o: Outcome): void {
    const lossNumber = typeof o.gpu.loss === 'number';
    Object.assign(this.#result.dataset, {
      state: 'done', ok: String(o.ok), spec: JSON.stringify(o.spec),
      dtype: o.storage.dtype, gradDtype: o.gpu.grad ? o.storage.gradDtype : '', logitBytes: String(logitBytes(o)),
      roundingMaxAbs: String(o.rounding.maxAbsChange),
      loss: lossNumber ? String(o.gpu.loss) : '', referenceLoss: typeof o.reference.loss === 'number' ? String(o.reference.loss) : '',
      lossMaxAbs: String(o.loss.maxAbsError), lossMaxRel: String(o.loss.maxRelError), lossOk: String(o.loss.ok),
      gradMaxAbs: o.grad ? String(o.grad.maxAbsError) : '', gradMaxRel: o.grad ? String(o.grad.maxRelError) : '',
      gradOk: o.grad ? String(o.grad.ok) : '', gpuMs: String(o.ms.gpuRepeat),
    });
    const verdict = element('p', `verdict ${o.ok ? 'pass' : 'fail'}`, o.ok
      ? '✓ pass: the GPU agrees with the float64 reference within the library\'s tolerances'
      : '✗ fail: outside the library\'s tolerances');
    verdict.id = 'batch-verdict';
    this.#result.replaceChildren(verdict, this.#lossFigures(o), this.#storageFigures(o), this.#timeFigures(o), this.#checkTable(o));
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

  /** What was stored in which dtype, its bytes, and what rounding to a 16-bit dtype did to the draw. */
  #storageFigures(o: Outcome): HTMLElement {
    const list = element('dl', 'figures storage');
    list.id = 'batch-storage';
    const add = (term: string, value: string, className = '') => list.append(element('dt', '', term), element('dd', className, value));
    const { dtype, gradDtype } = o.storage;
    add('logits', `${dtype}, ${DTYPE_INFO[dtype].bytes} bytes a value: ${formatBytes(logitBytes(o))} uploaded`, 'dtype');
    if (isHalf(dtype)) {
      add(`rounded to ${dtype}`, `to nearest even from the float32 draw, which moved by up to ${formatError(o.rounding.maxAbsChange)} `
        + `(${formatError(o.rounding.maxRelChange)} relative); the reference reads the same ${dtype} values`);
    }
    if (o.gpu.grad) {
      const { bytes } = DTYPE_INFO[gradDtype];
      add('gradient', `${gradDtype}, ${bytes} bytes a value: ${formatBytes(o.gpu.grad.length * bytes)} read back`
        + `${isHalf(gradDtype) ? ' (bit patterns, rounded to nearest even from float32)' : ''}`
        + `${gradDtype !== dtype ? ` (option gradDtype: '${gradDtype}')` : ''}`);
    }
    return list;
  }

  #timeFigures(o: Outcome): HTMLElement {
    const list = element('dl', 'figures times');
    const add = (term: string, value: string) => list.append(element('dt', '', term), element('dd', '', value));
    add('GPU, repeated call', `${formatMs(o.ms.gpuRepeat)} (upload of ${formatBytes(logitBytes(o))} of ${o.storage.dtype}, kernels, readback)`);
    add('GPU, first call', `${formatMs(o.ms.gpuFirst)} (compiles this variant's pipelines)`);
    add('float64 reference, CPU', `${formatMs(o.ms.reference)}${o.ms.gpuRepeat > 0 ? ` (${formatNumber(o.ms.reference / o.ms.gpuRepeat, 2)}× the GPU's time)` : ''}`);
    add('generating the data', `${formatMs(o.ms.generate)}${isHalf(o.storage.dtype) ? ` (with the rounding to ${o.storage.dtype})` : ''}`);
    return list;
  }

  #checkTable(o: Outcome): HTMLElement {
    const table = element('table', 'check-table');
    table.createCaption().textContent = `GPU against the float64 reference, both on the same ${o.storage.dtype} logits`;
    const head = table.createTHead().insertRow();
    for (const title of ['', 'values', 'max |Δ|', 'max |Δ| / |expected|', 'allowed', '']) head.append(element('th', '', title));
    const body = table.createTBody();
    const tolerance = typeof o.reference.loss === 'number'
      ? `|Δ| ≤ ${formatError(reducedLossTolerance(o.reference))} (${formatTolerance(TOLERANCES.reducedLoss.rtol)}·Σ|l| + `
        + `${formatTolerance(TOLERANCES.reducedLoss.atol)} per row)`
      : `|Δ| ≤ ${formatTolerance(TOLERANCES.rowLoss.atol)} + ${formatTolerance(TOLERANCES.rowLoss.rtol)}·|l| per row`;
    const { gradDtype } = o.storage;
    const halfGrad = o.grad !== undefined && isHalf(gradDtype);
    const rows: [string, Comparison, string][] = [['loss', o.loss, tolerance]];
    if (o.grad) {
      rows.push(['gradient', o.grad, `|Δ| ≤ ${formatTolerance(TOLERANCES.grad.atol)} + ${formatTolerance(TOLERANCES.grad.rtol)}·|g|`
        + `${halfGrad ? ` + ½ ulp of ${gradDtype} at g` : ''} each`]);
    }
    for (const [name, c, allowed] of rows) {
      const row = body.insertRow();
      row.dataset.quantity = name;
      for (const [text, className] of [[name, 'name'], [formatCount(c.count), 'num'], [formatError(c.maxAbsError), 'num'],
        [formatError(c.maxRelError), 'num'], [allowed, 'allowed'], [c.ok ? 'pass' : `fail (${c.mismatchCount})`, c.ok ? 'badge pass' : 'badge fail']]) {
        row.append(element('td', className, text));
      }
    }
    const wrapper = element('div', 'check-wrapper');
    wrapper.append(table, element('p', 'hint', 'The relative error is large where the expected value is near 0 (most of a gradient); '
      + 'the absolute term of the tolerance covers those.'));
    if (halfGrad) {
      const note = element('p', 'hint', `The gradient comes back in ${gradDtype}, rounded to nearest even from its float32 value: `
        + `that rounding alone may move it by half an ulp of ${gradDtype} `
        + `(up to ${formatPowerOfTwo(-DTYPE_INFO[gradDtype].significantBits)}·|g|), `
        + 'so its tolerance is float32\'s plus half an ulp.');
      note.id = 'batch-half-ulp-note';
      wrapper.append(note);
    }
    return wrapper;
  }
}

/** Bytes of the logits as uploaded: 2 a value for a 16-bit dtype, 4 for float32. */
function logitBytes(o: Outcome): number {
  return o.spec.shape.reduce((a, b) => a * b, 1) * DTYPE_INFO[o.storage.dtype].bytes;
}
