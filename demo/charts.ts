/**
 * The page's charts, drawn by Chart.js with only the pieces it uses registered (so the bundle holds
 * bar, line and scatter charts on category, linear and log axes, nothing else). Animations are off:
 * charts follow a slider as it moves and are exact the moment a screenshot or a test reads them.
 */
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement,
  LogarithmicScale, PointElement, ScatterController, Tooltip, type ChartConfiguration, type ChartDataset, type Plugin,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, LineController,
  LineElement, PointElement, ScatterController, Legend, Tooltip);

/** The page's palette, also used by demo/style.css. */
export const COLORS = {
  ink: '#1f2937',
  muted: '#6b7280',
  grid: '#e5e7eb',
  primary: '#2563eb',
  primaryLight: '#93c5fd',
  accent: '#ea580c',
  accentLight: '#fdba74',
  positive: '#059669',
  negative: '#dc2626',
  neutral: '#9ca3af',
} as const;

Chart.defaults.font.family = 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.color = COLORS.muted;
Chart.defaults.borderColor = COLORS.grid;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.responsive = true;

/**
 * Writes the y axis's ticks as Chart.js laid them out (value and label, '' where unlabelled) into the
 * canvas's data-y-ticks after every update, so a test or a reader of the page sees what was drawn.
 */
export const yTicksInDataset: Plugin = {
  id: 'y-ticks-in-dataset',
  afterUpdate(chart) {
    const ticks = chart.scales['y']?.ticks ?? [];
    chart.canvas.dataset.yTicks = JSON.stringify(ticks.map(({ value, label }) => ({ value, label: String(label ?? '') })));
  },
};

/** A chart on a canvas, replacing any chart already there. */
export function chartOn<T extends 'bar' | 'line' | 'scatter'>(canvas: HTMLCanvasElement, config: ChartConfiguration<T>): Chart<T> {
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, config);
}

/** Bars with one colour per bar (a class's own colour), no legend. */
export function barChart(canvas: HTMLCanvasElement, options: { yTitle: string; min?: number; max?: number }): Chart<'bar'> {
  return chartOn(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderRadius: 4, maxBarThickness: 48 }] },
    options: {
      plugins: { legend: { display: false } },
      scales: {
        x: { grid: { display: false } },
        y: { title: { display: true, text: options.yTitle }, ...(options.min !== undefined ? { min: options.min } : {}),
          ...(options.max !== undefined ? { max: options.max } : {}) },
      },
    },
  });
}

/** Replaces a bar chart's bars. */
export function setBars(chart: Chart<'bar'>, labels: string[], values: readonly number[], colors: string[]): void {
  chart.data.labels = labels;
  const dataset = chart.data.datasets[0] as ChartDataset<'bar', number[]>;
  dataset.data = [...values];
  dataset.backgroundColor = colors;
  chart.update();
}
