/**
 * The benchmark view: runs the benchmark itself (bench/run-bench.ts, the code `npm run bench`
 * runs) in this page, with a progress bar, then charts each implementation's ratio to the roofline
 * and our speed-up over TF.js per shape, and lists the medians. The bench and its peers (TF.js,
 * jax-js) load only when a run starts.
 *
 * #bench-results carries data-state and data-shapes; the table has one body row per shape.
 */
import type { Chart } from 'chart.js';
import { IMPLS } from '../bench/chart.mjs';
import { FULL_RUN, parseShapes, SHORT_RUN, type BenchConfig } from '../bench/presets.mjs';
import { findRow, ratioToRoofline, rooflineMs, shapesOf, speedUp, type BenchRow } from '../bench/ratios.mjs';
import { chartOn, COLORS } from './charts.js';
import { byId, element, messageOf } from './dom.js';
import { formatError, formatMs, formatRatio, formatShape, logTickLabel } from './format.js';

const RUNS = { short: SHORT_RUN, full: FULL_RUN } as const;
type RunKind = keyof typeof RUNS;

/** Our implementations against TF.js's: forward against forward, forward + gradient against the same. */
const AGAINST_TFJS = [
  ['ours-forward', 'tfjs-webgpu', 'forward', COLORS.primary],
  ['ours-forward-grad', 'tfjs-webgpu-grad', 'forward + gradient', COLORS.primaryLight],
] as const;

/** A loss this far from the reference (relative) is flagged in the table: ten times DESIGN.md §4's reduced-loss rtol. */
const SUSPECT_REL_ERROR = 1e-4;

/** Ratios above this are drawn at it (log axis), so one huge ratio does not flatten the rest. */
const RATIO_AXIS_MAX = 1000;

export class BenchmarkView {
  readonly #results = byId('bench-results');
  readonly #charts: { roofline: Chart<'bar'>; speedUp: Chart<'bar'> };

  constructor(hasWebGpu: boolean) {
    this.#charts = {
      roofline: this.#logBars('bench-roofline-chart', '× roofline (median / roofline median)'),
      speedUp: this.#logBars('bench-speedup-chart', '× faster than TF.js'),
    };
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
  }

  #logBars(id: string, title: string): Chart<'bar'> {
    return chartOn(byId<HTMLCanvasElement>(id), {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        plugins: {
          legend: { position: 'top', labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${formatRatio(item.parsed.y)}` } },
        },
        scales: {
          x: { grid: { display: false } },
          y: { type: 'logarithmic', title: { display: true, text: title },
            ticks: { callback: (value) => logTickLabel(Number(value)) } },
        },
      },
    });
  }

  #fill(kind: RunKind): void {
    const run = RUNS[kind];
    byId<HTMLInputElement>('bench-shapes').value = run.shapes.map((s) => s.join('x')).join(', ');
    byId<HTMLInputElement>('bench-rounds').value = String(run.rounds);
    byId<HTMLInputElement>('bench-warmup').value = String(run.warmup);
    byId('bench-hint').textContent = kind === 'short'
      ? `Small shapes, ${run.rounds} timed rounds after ${run.warmup} warm-up: under a minute on most machines. Ratios from a short run are rough.`
      : `DESIGN.md §5's shapes up to [4096, 32000], ${run.rounds} rounds after ${run.warmup} warm-ups, as npm run bench: `
        + 'several minutes, and about a gigabyte of memory.';
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
      this.#show(result.rows);
    } catch (error) {
      this.#results.dataset.state = 'error';
      status.textContent = `The run failed: ${messageOf(error)}`;
    } finally {
      button.disabled = false;
    }
  }

  #show(rows: BenchRow[]): void {
    const shapes = shapesOf(rows);
    const labels = shapes.map(formatShape);
    const capped = (r: number | null) => (r === null ? null : Math.min(r, RATIO_AXIS_MAX));
    const roofline = this.#charts.roofline;
    roofline.data.labels = labels;
    roofline.data.datasets = IMPLS.filter(({ impl }) => rows.some((r) => r.impl === impl)).map(({ impl, color }) => ({
      label: impl, backgroundColor: color, borderRadius: 2, data: shapes.map((s) => capped(ratioToRoofline(rows, s, impl))) as number[],
    }));
    roofline.update();
    roofline.canvas.dataset.labels = JSON.stringify(labels);
    const speed = this.#charts.speedUp;
    speed.data.labels = labels;
    speed.data.datasets = AGAINST_TFJS.map(([ours, peer, label, color]) => ({
      label: `${label} (${ours} vs ${peer})`, backgroundColor: color, borderRadius: 2,
      data: shapes.map((s) => speedUp(rows, s, ours, peer)) as number[],
    }));
    speed.update();
    speed.canvas.dataset.labels = JSON.stringify(labels);
    this.#table(rows, shapes);
    Object.assign(this.#results.dataset, { state: 'done', shapes: JSON.stringify(shapes), rows: JSON.stringify(rows) });
  }

  #table(rows: BenchRow[], shapes: number[][]): void {
    const impls = IMPLS.map(({ impl }) => impl).filter((impl) => rows.some((r) => r.impl === impl));
    const table = byId<HTMLTableElement>('bench-table');
    const head = element('tr');
    head.append(element('th', '', 'shape'), element('th', 'num', 'roofline-read'),
      ...impls.map((impl) => element('th', 'num', impl)), element('th', 'num', 'ours vs TF.js'));
    table.tHead!.replaceChildren(head);
    const body = shapes.map((shape) => {
      const tr = element('tr');
      tr.dataset.shape = JSON.stringify(shape);
      const read = findRow(rows, shape, 'roofline-read')?.median_ms ?? null;
      tr.append(element('th', '', formatShape(shape)), element('td', 'num', read === null ? '—' : formatMs(read)));
      for (const impl of impls) {
        const row = findRow(rows, shape, impl);
        const cell = element('td', 'num', formatRatio(ratioToRoofline(rows, shape, impl)));
        if (row) {
          const roof = rooflineMs(rows, shape, impl);
          cell.title = row.median_ms === null ? (row.note ?? 'not timed')
            : `${formatMs(row.median_ms)} median of ${row.runs}; roofline ${roof === null ? '—' : formatMs(roof)}; `
              + `relative error ${row.rel_error === null ? '—' : formatError(row.rel_error)}`;
          if (row.rel_error !== null && row.rel_error > SUSPECT_REL_ERROR) cell.classList.add('fail');
        }
        tr.append(cell);
      }
      tr.append(element('td', 'num', formatRatio(speedUp(rows, shape, 'ours-forward', 'tfjs-webgpu'))));
      return tr;
    });
    table.tBodies[0]!.replaceChildren(...body);
  }
}
