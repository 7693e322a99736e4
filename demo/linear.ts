/**
 * The linear head view: `ce.linear(hidden, classifier, target, options)` on a seeded problem of N
 * rows, D features and V classes (linear-data.ts), its hidden states and classifier stored as the
 * chosen dtype; timed, its peak GPU memory (`gpuMemoryPeak`) set beside what materialised logits
 * would take, and checked against `linearCrossEntropyReference` (all rows, or the first rows where
 * all would take the CPU too long: the page says which).
 *
 * Each run gets its own CrossEntropy on the page's device, destroyed after it, so the peak is this
 * call's alone (no prepared calls of other views or shapes in it). #linear-result carries the
 * figures in data attributes (data-state, data-ok, data-spec, data-loss, data-checked-rows, …).
 */
import {
  CrossEntropy, linearCrossEntropyReference, type LinearReferenceResult, type LinearResult,
} from '../src/index.js';
import { byId, element, messageOf } from './dom.js';
import { DTYPE_INFO, isDtype, isHalf } from './dtype.js';
import {
  buildLinear, checkLinear, firstRows, LINEAR_PRESETS, linearOptions, logitBytes, referenceMultiplyAdds, referenceOptions,
  referenceRows, REFERENCE_MAX_LOGITS, REFERENCE_MAX_MULTIPLY_ADDS, type LinearData, type LinearPreset, type LinearSpec,
} from './linear-data.js';
import { showLinearOutcome, type LinearOutcome } from './linear-results.js';
import { formatBytes, formatCount, formatShape } from './format.js';

const MIB = 1024 * 1024;
/** Above this many values in hidden or classifier the page refuses (the draw alone would take long). */
const MAX_VALUES = 1 << 25;

const number = (id: string) => Number(byId<HTMLInputElement>(id).value);
const checked = (id: string) => byId<HTMLInputElement>(id).checked;

/** The problem the form describes, or why it cannot be run. */
function readSpec(): LinearSpec {
  const [rows, depth, classes] = [number('linear-n'), number('linear-d'), number('linear-v')];
  for (const [name, value] of [['N', rows], ['D', depth], ['V', classes]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  }
  for (const [name, count] of [['hidden (N·D)', rows * depth], ['classifier (V·D)', classes * depth]] as const) {
    if (count > MAX_VALUES) throw new RangeError(`${name} has ${formatCount(count)} values, over this page's ${formatCount(MAX_VALUES)}`);
  }
  const dtype = byId<HTMLSelectElement>('linear-dtype').value;
  if (!isDtype(dtype)) throw new RangeError(`unknown dtype ${dtype}`);
  return {
    rows, depth, classes, dtype, gradFloat32: byId<HTMLSelectElement>('linear-grad-dtype').value === 'float32',
    reduction: byId<HTMLSelectElement>('linear-reduction').value as LinearSpec['reduction'],
    labelSmoothing: number('linear-smoothing'), ignoreIndex: number('linear-ignore-index'),
    ignoredFraction: number('linear-ignored'), zLoss: number('linear-zloss'), softcap: number('linear-softcap'),
    bias: checked('linear-bias'), weighted: checked('linear-weight'),
    grad: { hidden: checked('linear-grad-hidden'), classifier: checked('linear-grad-classifier'),
      bias: checked('linear-bias') && checked('linear-grad-bias') },
    memoryBudget: Math.round(number('linear-budget') * MIB), seed: number('linear-seed'),
  };
}

/** Lets the browser paint a status line before the next long synchronous step. */
const nextFrame = () => new Promise<void>((resolve) => { setTimeout(resolve, 0); });

async function timedAsync<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}

export class LinearView {
  readonly #ce: CrossEntropy | null;
  readonly #result = byId('linear-result');

  constructor(ce: CrossEntropy | null) {
    this.#ce = ce;
    const form = byId<HTMLFormElement>('linear-form');
    const preset = byId<HTMLSelectElement>('linear-preset');
    for (const [key, { label }] of Object.entries(LINEAR_PRESETS)) preset.append(new Option(label, key));
    preset.append(new Option('custom', 'custom'));
    preset.addEventListener('change', () => this.#applyPreset());
    // Editing the shape or the budget by hand leaves the presets.
    for (const id of ['linear-n', 'linear-d', 'linear-v', 'linear-budget']) {
      byId(id).addEventListener('input', () => { preset.value = 'custom'; });
    }
    form.addEventListener('input', () => this.#sync());
    form.addEventListener('change', () => this.#sync());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#run();
    });
    this.#applyPreset();
    if (!ce) {
      byId<HTMLButtonElement>('linear-run').disabled = true;
      this.#result.replaceChildren(element('p', 'placeholder', 'The linear head view needs WebGPU (see the adapter card above).'));
    }
  }

  #applyPreset(): void {
    const key = byId<HTMLSelectElement>('linear-preset').value;
    if (key in LINEAR_PRESETS) {
      const preset = LINEAR_PRESETS[key as LinearPreset];
      byId<HTMLInputElement>('linear-n').value = String(preset.rows);
      byId<HTMLInputElement>('linear-d').value = String(preset.depth);
      byId<HTMLInputElement>('linear-v').value = String(preset.classes);
      byId<HTMLInputElement>('linear-budget').value = String(preset.memoryBudget / MIB);
    }
    this.#sync();
  }

  /** Options that do not apply are disabled; the hint says what the shape costs and what the reference checks. */
  #sync(): void {
    const dtype = byId<HTMLSelectElement>('linear-dtype').value;
    const half = isDtype(dtype) && isHalf(dtype);
    byId<HTMLSelectElement>('linear-grad-dtype').disabled = !half
      || !(checked('linear-grad-hidden') || checked('linear-grad-classifier'));
    byId<HTMLInputElement>('linear-grad-bias').disabled = !checked('linear-bias');
    byId('linear-dtype-hint').textContent = isDtype(dtype)
      ? `${DTYPE_INFO[dtype].about}${half ? ' The draw is rounded to it; the reference reads the same values.' : ''}`
      : '';
    const size = byId('linear-size');
    try {
      const spec = readSpec();
      const logits = logitBytes(spec);
      const checkedRows = referenceRows(spec);
      size.textContent = `N × V = ${formatCount(spec.rows * spec.classes)} logits: ${formatBytes(logits)} as float32 if `
        + `materialised (${formatBytes(2 * logits)} with their gradient), ${budgetShare(logits, spec.memoryBudget)}. `
        + (checkedRows === spec.rows ? `The reference checks all ${formatCount(spec.rows)} rows.`
          : `The reference checks the first ${formatCount(checkedRows)} rows only: all would be `
            + `${formatCount(referenceMultiplyAdds(spec))} multiply-adds over ${formatCount(spec.rows * spec.classes)} float64 `
            + `logits on the CPU, and this page stops at ${formatCount(REFERENCE_MAX_MULTIPLY_ADDS)} and `
            + `${formatCount(REFERENCE_MAX_LOGITS)}.`);
    } catch (error) {
      size.textContent = messageOf(error);
    }
  }

  async #run(): Promise<void> {
    const button = byId<HTMLButtonElement>('linear-run');
    button.disabled = true;
    this.#result.dataset.state = 'running';
    let spec: LinearSpec | undefined;
    try {
      spec = readSpec();
      const outcome = await this.#compute(spec);
      showLinearOutcome(this.#result, outcome);
    } catch (error) {
      // What the library (or the form) said, as it said it: nothing is worked around.
      Object.assign(this.#result.dataset, { state: 'error', error: messageOf(error), spec: spec ? JSON.stringify(spec) : '' });
      const name = error instanceof Error ? error.name : 'Error';
      this.#result.replaceChildren(element('p', 'check fail', `Could not run: ${name}: ${messageOf(error)}`));
    } finally {
      button.disabled = false;
    }
  }

  #status(text: string): void {
    this.#result.replaceChildren(element('p', 'placeholder busy', text));
  }

  async #compute(spec: LinearSpec): Promise<LinearOutcome> {
    this.#status(`Generating hidden ${formatShape([spec.rows, spec.depth])} and classifier ${formatShape([spec.classes, spec.depth])} `
      + `(seed ${spec.seed})${isHalf(spec.dtype) ? `, rounded to ${spec.dtype}` : ''}…`);
    await nextFrame();
    const { value: data, ms: generate } = await timedAsync(async () => buildLinear(spec));
    const ce = await CrossEntropy.create({ device: this.#ce!.device });
    try {
      this.#status('Running ce.linear on the GPU (the first call compiles its pipelines)…');
      await nextFrame();
      const call = (d: LinearData) => ce.linear(d.hidden, d.classifier, d.target, linearOptions(spec, d));
      ce.gpuMemoryPeak(); // starts the period: this instance holds nothing yet
      const first = await timedAsync(() => call(data));
      const peak = ce.gpuMemoryPeak();
      const repeat = await timedAsync(() => call(data));
      const held = ce.gpuMemory();
      const rows = referenceRows(spec);
      let checkedGpu: LinearResult = repeat.value;
      let subset: LinearData = data;
      if (rows < spec.rows) {
        this.#status(`Running the first ${formatCount(rows)} rows on their own, for the reference to check…`);
        await nextFrame();
        subset = firstRows(data, rows);
        checkedGpu = await call(subset);
      }
      this.#status(`Computing the float64 reference on the CPU for ${rows === spec.rows ? 'all' : 'the first'} `
        + `${formatCount(rows)} rows${isHalf(spec.dtype) ? ` from the same ${spec.dtype} values` : ''}…`);
      await nextFrame();
      const reference = await timedAsync(async (): Promise<LinearReferenceResult> =>
        linearCrossEntropyReference(subset.hidden, subset.classifier, subset.target, referenceOptions(spec, subset)));
      const quantities = checkLinear(spec, checkedGpu, reference.value);
      return {
        spec, rounding: data.rounding, gpu: repeat.value, peak, held,
        check: { rows, gpuLoss: checkedGpu.loss, reference: reference.value, quantities, ok: quantities.every((q) => q.comparison.ok) },
        ms: { generate, gpuFirst: first.ms, gpuRepeat: repeat.ms, reference: reference.ms },
      };
    } finally {
      ce.destroy();
    }
  }
}

/** Logits' bytes against the memory budget: "within the 32 MiB memory budget" or "1.5 × the 16 MiB memory budget". */
function budgetShare(bytes: number, budget: number): string {
  if (!(budget > 0)) return 'and no memory budget (it must be positive)';
  const ratio = bytes / budget;
  return ratio <= 1 ? `within the ${formatBytes(budget)} memory budget` : `${ratio.toFixed(1)} × the ${formatBytes(budget)} memory budget`;
}
