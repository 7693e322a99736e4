/**
 * The Train view's two live charts: the training loss against the step (each loss read, and a
 * smoothed curve through them) and the test accuracy after each epoch. The loss chart's canvas
 * carries what it draws as [step, loss] pairs in data-losses and data-smoothed.
 */
import type { Chart } from 'chart.js';
import { chartOn, COLORS } from './charts.js';
import { byId } from './dom.js';

/** The smoothed curve: an exponential moving average over the losses read, with this weight on the past. */
const SMOOTHING = 0.6;

/**
 * Losses as [step, loss], smoothed as TensorBoard does: an exponential moving average, debiased so
 * that its start is not pulled towards 0 (the first value is the first loss itself).
 */
export function smoothLosses(losses: readonly (readonly [number, number])[], weight = SMOOTHING): [number, number][] {
  let average = 0;
  return losses.map(([step, loss], i) => {
    average = weight * average + (1 - weight) * loss;
    return [step, average / (1 - weight ** (i + 1))];
  });
}

/** An epoch axis: whole epochs labelled, half an epoch of room past the last. */
const epochTicks = (value: string | number) => (Number.isInteger(Number(value)) ? String(value) : '');

export class TrainingCharts {
  readonly #loss: Chart<'scatter'>;
  readonly #accuracy: Chart<'scatter'>;

  constructor() {
    this.#loss = chartOn(byId<HTMLCanvasElement>('train-loss-chart'), {
      type: 'scatter',
      data: { datasets: [
        { label: 'as read', data: [], pointRadius: 2, backgroundColor: COLORS.primaryLight, borderWidth: 0 },
        { label: 'smoothed', data: [], showLine: true, pointRadius: 0, pointStyle: 'line', borderColor: COLORS.primary, borderWidth: 2 },
      ] },
      options: {
        plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 12, usePointStyle: true } } },
        scales: { x: { type: 'linear', min: 0, title: { display: true, text: 'step' } },
          y: { min: 0, title: { display: true, text: 'cross-entropy' } } },
      },
    });
    this.#accuracy = chartOn(byId<HTMLCanvasElement>('train-accuracy-chart'), {
      type: 'scatter',
      data: { datasets: [{ label: 'test accuracy', data: [], showLine: true, pointRadius: 4, borderColor: COLORS.accent,
        backgroundColor: COLORS.accent, borderWidth: 2 }] },
      options: {
        plugins: { legend: { display: false } },
        scales: { x: { type: 'linear', min: 0, ticks: { stepSize: 0.5, callback: epochTicks }, title: { display: true, text: 'epoch' } },
          y: { suggestedMin: 0.8, suggestedMax: 1, title: { display: true, text: 'accuracy' } } },
      },
    });
  }

  /**
   * Draws the losses read (x up to `totalSteps`) and the accuracies as [epoch, accuracy] (x up to
   * `epochs`); returns the smoothed losses.
   */
  show(losses: readonly [number, number][], accuracies: readonly [number, number][], totalSteps: number, epochs: number): [number, number][] {
    const smoothed = smoothLosses(losses);
    this.#loss.data.datasets[0]!.data = losses.map(([x, y]) => ({ x, y }));
    this.#loss.data.datasets[1]!.data = smoothed.map(([x, y]) => ({ x, y }));
    this.#loss.options.scales!['x']!.max = Math.max(totalSteps, losses.at(-1)?.[0] ?? 0, 1);
    this.#loss.update();
    Object.assign(this.#loss.canvas.dataset, { losses: JSON.stringify(losses), smoothed: JSON.stringify(smoothed) });
    this.#accuracy.data.datasets[0]!.data = accuracies.map(([x, y]) => ({ x, y }));
    this.#accuracy.options.scales!['x']!.max = Math.max(epochs, accuracies.at(-1)?.[0] ?? 0, 1) + 0.5;
    this.#accuracy.update();
    return smoothed;
  }
}
