/**
 * The benchmark view. It opens on the run recorded in the repository (bench/results.json, what
 * `npm run bench` last wrote); a run in this page (bench/run-bench.ts, the code `npm run bench`
 * runs), with a progress bar, replaces it. Two charts over the shapes (each row's time over its
 * roofline; our speed-up over TF.js), a key saying what each row measures, and a table of the figures.
 * The bench and its peers (TF.js, jax-js) load only when a run starts.
 *
 * #bench-results carries data-state (recorded, running, done, error), data-shapes and data-rows; each
 * chart's canvas its x labels (data-labels) and its y axis's ticks as drawn (data-y-ticks).
 */
import type { Chart, ChartDataset } from 'chart.js';
import { IMPLS } from '../bench/chart.js';
import { FULL_RUN, parseShapes, SHORT_RUN, type BenchConfig } from '../bench/presets.js';
import { ratioToRoofline, shapesOf, speedUp, type BenchRow } from '../bench/ratios.js';
import recorded from '../bench/results.json';
import { AGAINST_TFJS, fillKey, fillTable } from './bench-table.js';
import { chartOn, COLORS, yTicksInDataset } from './charts.js';
import { byId, messageOf } from './dom.js';
import { formatRatio, formatShape, logTickLabel } from './format.js';

const RUNS = { short: SHORT_RUN, full: FULL_RUN } as const;
type RunKind = keyof typeof RUNS;

/** Ratios above this are drawn at it (log axis), so one huge ratio does not flatten the rest. */
const RATIO_AXIS_MAX = 1000;

/** The powers of ten around the values, so a log axis starts and ends on a labelled tick (none: Chart.js picks). */
function decades(values: readonly (number | null)[]): { min: number | undefined; max: number | undefined } {
  const positive = values.filter((v): v is number => v !== null && v > 0);
  if (positive.length === 0) return { min: undefined, max: undefined };
  return {
    min: 10 ** Math.floor(Math.log10(Math.min(...positive)) + 1e-9),
    max: 10 ** Math.ceil(Math.log10(Math.max(...positive)) - 1e-9),
  };
}

/** Replaces a log bar chart's bars and fits its axis to them. */
function setLogBars(chart: Chart<'bar'>, labels: string[], datasets: ChartDataset<'bar', (number | null)[]>[]): void {
  chart.data.labels = labels;
  chart.data.datasets = datasets as ChartDataset<'bar'>[];
  Object.assign(chart.options.scales!['y']!, decades(datasets.flatMap((d) => d.data)));
  chart.update();
  chart.canvas.dataset.labels = JSON.stringify(labels);
}

export class BenchmarkView {
  readonly #results = byId('bench-results');
  readonly #charts: { roofline: Chart<'bar'>; speedUp: Chart<'bar'> };

  constructor(hasWebGpu: boolean) {
    this.#charts = {
      roofline: this.#logBars('bench-roofline-chart', '× its roofline (median / roofline median)', false),
      speedUp: this.#logBars('bench-speedup-chart', '× faster than TF.js', true),
    };
    fillKey(byId('bench-key'));
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="bench-run"]')) {
      radio.addEventListener('change', () => radio.checked && this.#fill(radio.value as RunKind));
    }
    this.#fill('short');
    byId<HTMLFormElement>('bench-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#run();
    });
    if (!hasWebGpu) {
      byId<HTMLButtonElement>('bench-start').disabled = true;
      byId('bench-status').textContent = 'The benchmark needs WebGPU (see the adapter card above).';
    }
    const { adapter, config, rows } = recorded;
    this.#show(rows as BenchRow[], 'recorded', `Shown below: the run recorded in the repository (${config.shapes.length} shapes, `
      + `${config.rounds} timed rounds each) on ${adapter.vendor} · ${adapter.architecture}`
      + `${adapter.architecture === 'swiftshader' ? ', WebGPU emulated on the CPU, where the ratios count, not the milliseconds' : ''}. `
      + 'Run the benchmark to measure this machine instead.');
  }

  /** A bar chart on a log axis; the roofline chart's legend is the key below it. */
  #logBars(id: string, title: string, legend: boolean): Chart<'bar'> {
    return chartOn<'bar'>(byId<HTMLCanvasElement>(id), {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        plugins: {
          legend: { display: legend, position: 'top', labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${formatRatio(item.parsed.y)}` } },
        },
        scales: {
          x: { grid: { display: false } },
          // Every labelled tick shown (unlabelled ones take no room), and the 1× line darker.
          y: { type: 'logarithmic', title: { display: true, text: title },
            ticks: { autoSkip: false, callback: (value) => logTickLabel(Number(value)) },
            grid: { color: (context) => (context.tick?.value === 1 ? COLORS.muted : COLORS.grid) } },
        },
      },
      plugins: [yTicksInDataset],
    });
  }

  #fill(kind: RunKind): void {
    const run = RUNS[kind];
    byId<HTMLInputElement>('bench-shapes').value = run.shapes.map((s) => s.join('x')).join(', ');
    byId<HTMLInputElement>('bench-rounds').value = String(run.rounds);
    byId<HTMLInputElement>('bench-warmup').value = String(run.warmup);
    byId('bench-hint').textContent = kind === 'short'
      ? `Small shapes, ${run.rounds} timed rounds after ${run.warmup} warm-up: under a minute on most machines. Ratios from a short run are rough.`
      : `The ${run.shapes.length} shapes npm run bench times, up to [4096, 32000], ${run.rounds} rounds after ${run.warmup} `
        + 'warm-ups: several minutes, and about a gigabyte of memory.';
  }

  #config(): BenchConfig {
    const count = (id: string) => {
      const value = Number(byId<HTMLInputElement>(id).value);
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${id.replace('bench-', '')} must be a positive integer, not ${value}`);
      return value;
    };
    const shapes = parseShapes(byId<HTMLInputElement>('bench-shapes').value);
    if (shapes.some((s) => s.length < 2)) throw new RangeError('each shape needs at least two dimensions, [N, C, …]');
    return { shapes, rounds: count('bench-rounds'), warmup: count('bench-warmup'), slowLimitMs: FULL_RUN.slowLimitMs };
  }

  async #run(): Promise<void> {
    const button = byId<HTMLButtonElement>('bench-start');
    const progress = byId<HTMLProgressElement>('bench-progress');
    const status = byId('bench-status');
    button.disabled = true;
    this.#results.dataset.state = 'running';
    progress.value = 0;
    try {
      const config = this.#config();
      status.textContent = 'Loading the benchmark and its peers (TF.js, jax-js)…';
      const { runBench } = await import('../bench/run-bench.js');
      const result = await runBench(config, ({ message, fraction }) => {
        progress.value = fraction;
        status.textContent = message;
      });
      progress.value = 1;
      status.textContent = `Done: ${config.shapes.length} shapes on ${String(result.adapter.vendor)} ${String(result.adapter.architecture)}`
        + `${result.warnings.length ? ` (${result.warnings.length} GPU warnings: see the console)` : ''}.`;
      result.warnings.forEach((w) => console.warn(w));
      this.#show(result.rows, 'done', `Shown below: this page's run (${config.shapes.length} shapes, ${config.rounds} timed rounds each) `
        + `on ${String(result.adapter.vendor)} · ${String(result.adapter.architecture)}.`);
    } catch (error) {
      this.#results.dataset.state = 'error';
      status.textContent = `The run failed: ${messageOf(error)}`;
    } finally {
      button.disabled = false;
    }
  }

  #show(rows: BenchRow[], state: 'recorded' | 'done', shown: string): void {
    const shapes = shapesOf(rows);
    const labels = shapes.map(formatShape);
    const capped = (r: number | null) => (r === null ? null : Math.min(r, RATIO_AXIS_MAX));
    setLogBars(this.#charts.roofline, labels, IMPLS.filter(({ impl }) => rows.some((r) => r.impl === impl)).map(({ impl, color }) => ({
      label: impl, backgroundColor: color, borderRadius: 2, data: shapes.map((s) => capped(ratioToRoofline(rows, s, impl))),
    })));
    // Only the shapes where TF.js was timed: it is too slow for the largest, or cannot run them.
    const againstTfjs = shapes.filter((s) => AGAINST_TFJS.some(([ours, peer]) => speedUp(rows, s, ours, peer) !== null));
    setLogBars(this.#charts.speedUp, againstTfjs.map(formatShape), AGAINST_TFJS.map(([ours, peer, label, color]) => ({
      label: `${label} (${ours} vs ${peer})`, backgroundColor: color, borderRadius: 2,
      data: againstTfjs.map((s) => speedUp(rows, s, ours, peer)),
    })));
    fillTable(byId<HTMLTableElement>('bench-table'), rows, shapes);
    byId('bench-shown').textContent = shown;
    Object.assign(this.#results.dataset, { state, shapes: JSON.stringify(shapes), rows: JSON.stringify(rows) });
  }
}
