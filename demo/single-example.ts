/**
 * The single-example view: one row of logits or probabilities, the true class, and live charts of
 * the probabilities, the gradient and −log p. The float64 reference answers at once; when WebGPU is
 * there, the GPU's answer replaces it and is checked against the reference (docs/accuracy.md's tolerances).
 *
 * The result element carries the shown numbers at full precision in data attributes (data-loss,
 * data-grad, data-probabilities, data-values, ...) for tests and for anyone who inspects the page.
 */
import type { Chart } from 'chart.js';
import { compareWithReference, crossEntropyReference, describeComparison, type CrossEntropy, type ReferenceResult } from '../src/index.js';
import { barChart, chartOn, COLORS, setBars } from './charts.js';
import { byId, element, messageOf } from './dom.js';
import { convert, LOGIT_RANGE, PRESETS, probabilitiesOf, withValue, type EnteredAs, type Example } from './examples.js';
import { formatError, formatNumber } from './format.js';
import { lossFormula } from './formula.js';

/** What one computation gives: the loss and d(loss)/d(values), from the GPU or the reference. */
interface Answer {
  readonly loss: number;
  readonly grad: readonly number[];
  readonly source: 'gpu' | 'cpu-reference';
  readonly check?: { readonly ok: boolean; readonly lossError: number; readonly gradError: number; readonly text: string };
}

/** Points of the −log p curve, spaced evenly in log p so the steep end near 0 is drawn smoothly. */
const CURVE_POINTS = 120;
const CURVE_MIN_P = 0.002;
/** The curve's y axis shows at least this much, more when the point is higher. */
const CURVE_MIN_TOP = 5;
const PROBABILITY_STEP = 0.001;
const LOGIT_STEP = 0.01;
/** How far from 1 a sum of probabilities may be before the page points it out. */
const SUM_SLACK = 1e-9;
/** Digits a value's number box shows; the state keeps the full value. */
const INPUT_DIGITS = 4;

function curve(): { x: number; y: number }[] {
  return Array.from({ length: CURVE_POINTS + 1 }, (_, i) => {
    const p = CURVE_MIN_P ** (1 - i / CURVE_POINTS);
    return { x: p, y: -Math.log(p) };
  });
}

function referenceAnswer(example: Example): { answer: Answer; reference: ReferenceResult } {
  const reference = crossEntropyReference(
    { data: Float64Array.from(example.values), shape: [example.values.length] },
    { data: Int32Array.of(example.target), shape: [] },
    { input: example.enteredAs, grad: true },
  );
  return { reference, answer: { loss: reference.loss as number, grad: [...reference.grad!], source: 'cpu-reference' } };
}

async function gpuAnswer(ce: CrossEntropy, example: Example, reference: ReferenceResult): Promise<Answer> {
  const gpu = await ce.forward(
    { data: Float32Array.from(example.values), shape: [example.values.length] },
    { data: Int32Array.of(example.target), shape: [] },
    { input: example.enteredAs, grad: true },
  );
  const check = compareWithReference(gpu, reference);
  const text = `loss ${describeComparison(check.loss)}; gradient ${describeComparison(check.grad!)}`;
  return { loss: gpu.loss, grad: [...gpu.grad!], source: 'gpu',
    check: { ok: check.ok, lossError: check.loss.maxAbsError, gradError: check.grad!.maxAbsError, text } };
}

export class SingleExampleView {
  #example: Example = PRESETS[0]!;
  readonly #ce: CrossEntropy | null;
  readonly #charts: { probabilities: Chart<'bar'>; grad: Chart<'bar'>; curve: Chart<'scatter'> };
  /** Bumped by every change; a GPU answer for an older version is dropped. */
  #version = 0;
  /** The version the GPU last computed. */
  #gpuVersion = 0;
  #gpuBusy = false;

  constructor(ce: CrossEntropy | null) {
    this.#ce = ce;
    this.#charts = {
      probabilities: barChart(byId<HTMLCanvasElement>('single-prob-chart'), { yTitle: 'p', min: 0, max: 1 }),
      grad: barChart(byId<HTMLCanvasElement>('single-grad-chart'), { yTitle: '∂L/∂p' }),
      curve: this.#curveChart(),
    };
    this.#wirePresets();
    this.#load(PRESETS[0]!);
  }

  #curveChart(): Chart<'scatter'> {
    return chartOn(byId<HTMLCanvasElement>('single-curve-chart'), {
      type: 'scatter',
      data: {
        datasets: [
          { label: '−log p', data: curve(), showLine: true, pointRadius: 0, borderColor: COLORS.primary, borderWidth: 2 },
          { label: 'the true class now', data: [], pointRadius: 7, pointHoverRadius: 8, backgroundColor: COLORS.accent,
            borderColor: 'white', borderWidth: 2 },
        ],
      },
      options: {
        plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 12, usePointStyle: true } } },
        scales: {
          x: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'p of the true class' } },
          y: { min: 0, title: { display: true, text: 'loss = −log p' } },
        },
      },
    });
  }

  #wirePresets(): void {
    const select = byId<HTMLSelectElement>('single-preset');
    for (const preset of PRESETS) select.append(new Option(preset.title, preset.id));
    select.addEventListener('change', () => this.#load(PRESETS.find((p) => p.id === select.value)!));
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="single-input"]')) {
      radio.addEventListener('change', () => {
        if (radio.checked) this.#load(convert(this.#example, radio.value as EnteredAs));
      });
    }
    byId<HTMLSelectElement>('single-target').addEventListener('change', (event) => {
      this.#update({ ...this.#example, target: Number((event.target as HTMLSelectElement).value) });
    });
  }

  /** Shows a whole new example: rebuilds the value editors and the class list. */
  #load(example: Example): void {
    this.#example = example;
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="single-input"]')) {
      radio.checked = radio.value === example.enteredAs;
    }
    const target = byId<HTMLSelectElement>('single-target');
    target.replaceChildren(...example.classNames.map((name, c) => new Option(name, String(c), false, c === example.target)));
    this.#buildEditors();
    this.#update(example);
  }

  #hint(example: Example): string {
    if (example.enteredAs === 'logits') return 'Logits are any real numbers; the softmax turns them into probabilities.';
    const sum = example.values.reduce((a, b) => a + b, 0);
    const off = Math.abs(sum - 1) > SUM_SLACK
      ? ` These sum to ${formatNumber(sum, 4)}: the loss takes log p as given, without renormalising (as logits, the softmax would renormalise).`
      : '';
    return `Moving one probability rescales the others so that they sum to 1.${off}`;
  }

  #buildEditors(): void {
    const { classNames, enteredAs } = this.#example;
    const isP = enteredAs === 'probabilities';
    const symbol = isP ? 'p' : 'z';
    const rows = classNames.map((name, c) => {
      const row = element('div', 'value-row');
      row.dataset.class = String(c);
      const label = element('label', 'value-label');
      label.innerHTML = `${symbol}<sub>${name}</sub>`;
      const slider = element('input', 'value-slider');
      Object.assign(slider, { type: 'range', min: String(isP ? 0 : LOGIT_RANGE.min), max: String(isP ? 1 : LOGIT_RANGE.max),
        step: String(isP ? PROBABILITY_STEP : LOGIT_STEP) });
      slider.setAttribute('aria-label', `${symbol} of class ${name} (slider)`);
      const box = element('input', 'value-box');
      Object.assign(box, { type: 'number', step: String(isP ? PROBABILITY_STEP : LOGIT_STEP), ...(isP ? { min: '0', max: '1' } : {}) });
      box.setAttribute('aria-label', `${symbol} of class ${name}`);
      box.id = `single-value-${c}`;
      label.htmlFor = box.id;
      const set = (text: string) => {
        const value = Number(text);
        if (text.trim() !== '' && Number.isFinite(value)) this.#update(withValue(this.#example, c, value), c);
      };
      slider.addEventListener('input', () => set(slider.value));
      box.addEventListener('input', () => set(box.value));
      row.append(label, slider, box);
      return row;
    });
    byId('single-values').replaceChildren(...rows);
  }

  /** Takes a changed example; `editing` is the class whose number box the user is typing in (left alone). */
  #update(example: Example, editing?: number): void {
    this.#example = example;
    this.#version++;
    for (const row of byId('single-values').children) {
      const c = Number((row as HTMLElement).dataset.class);
      const value = example.values[c]!;
      const [slider, box] = row.querySelectorAll('input');
      slider!.value = String(value);
      if (c !== editing) box!.value = String(Number(value.toFixed(INPUT_DIGITS)));
      row.classList.toggle('is-target', c === example.target);
    }
    byId('single-target').querySelectorAll('option').forEach((o, c) => { o.selected = c === example.target; });
    byId('single-hint').textContent = this.#hint(example);
    this.#show(referenceAnswer(example).answer, this.#ce ? 'computing' : 'done');
    if (this.#ce) void this.#runGpu(this.#ce);
  }

  /** One GPU call at a time; changes made meanwhile are not queued: only the latest is computed next. */
  async #runGpu(ce: CrossEntropy): Promise<void> {
    if (this.#gpuBusy) return;
    this.#gpuBusy = true;
    try {
      while (this.#gpuVersion !== this.#version) {
        const version = this.#version;
        const example = this.#example;
        try {
          const answer = await gpuAnswer(ce, example, referenceAnswer(example).reference);
          if (version === this.#version) this.#show(answer, 'done');
        } catch (error) {
          if (version === this.#version) this.#showError(error);
        }
        this.#gpuVersion = version;
      }
    } finally {
      this.#gpuBusy = false;
    }
  }

  #show(answer: Answer, state: 'computing' | 'done'): void {
    const example = this.#example;
    const p = probabilitiesOf(example);
    const result = byId('single-result');
    Object.assign(result.dataset, {
      state, source: answer.source, version: String(this.#version), enteredAs: example.enteredAs,
      target: String(example.target), values: JSON.stringify(example.values), probabilities: JSON.stringify(p),
      loss: String(answer.loss), grad: JSON.stringify(answer.grad), check: answer.check ? (answer.check.ok ? 'pass' : 'fail') : 'none',
    });
    result.textContent = formatNumber(answer.loss, 9);
    byId('single-formula').innerHTML = lossFormula(example, p, answer.loss);
    const check = byId('single-check');
    if (answer.check) {
      check.className = `check ${answer.check.ok ? 'pass' : 'fail'}`;
      check.textContent = `${answer.check.ok ? '✓' : '✗'} GPU (WGSL, f32) against the float64 reference: `
        + `${answer.check.ok ? 'within' : 'outside'} the library's tolerances (loss |Δ| = ${formatError(answer.check.lossError)}, `
        + `gradient max |Δ| = ${formatError(answer.check.gradError)})`;
      check.title = answer.check.text;
    } else {
      check.className = 'check';
      check.textContent = this.#ce ? 'Computing on the GPU…' : 'Computed by the float64 reference on the CPU (no WebGPU here).';
      check.title = '';
    }
    const names = example.classNames.map(String);
    const colors = (pick: (c: number) => string) => names.map((_, c) => pick(c));
    setBars(this.#charts.probabilities, names, p, colors((c) => (c === example.target ? COLORS.accent : COLORS.primary)));
    setBars(this.#charts.grad, names, answer.grad, colors((c) => (answer.grad[c]! < 0 ? COLORS.negative : COLORS.primary)));
    this.#captions(example.enteredAs);
    const pTarget = p[example.target]!;
    const curveChart = this.#charts.curve;
    curveChart.data.datasets[1]!.data = [{ x: pTarget, y: -Math.log(Math.max(pTarget, Number.MIN_VALUE)) }];
    curveChart.options.scales!.y!.max = Math.ceil(Math.max(CURVE_MIN_TOP, Math.min(answer.loss, 100) + 0.5));
    curveChart.update();
  }

  #captions(enteredAs: EnteredAs): void {
    const isP = enteredAs === 'probabilities';
    byId('single-prob-caption').textContent = isP ? 'Probabilities p, as entered (true class in orange)' : 'Probabilities p = softmax(z) (true class in orange)';
    byId('single-grad-caption').textContent = isP ? 'Gradient ∂L/∂p = −y / p (only the true class)' : 'Gradient ∂L/∂z = p − y';
    const axis = this.#charts.grad.options.scales!.y!;
    axis.title = { ...axis.title, display: true, text: isP ? '∂L/∂p' : '∂L/∂z' };
  }

  #showError(error: unknown): void {
    const check = byId('single-check');
    check.className = 'check fail';
    check.textContent = `GPU error: ${messageOf(error)}`;
    byId('single-result').dataset.state = 'error';
  }
}
