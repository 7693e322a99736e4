/**
 * The Train view: softmax regression on the digits of the `mnist` package, trained on the GPU by
 * examples/digits' DigitTrainer (each step ce.linearGpu's loss and gradients of W and b plus an SGD
 * kernel, in one command encoder, nothing read back; the loss read every LOSS_EVERY steps). Start,
 * pause, reset; batch size, learning rate and epochs. Live: the loss (as read, and smoothed), the test
 * accuracy after each epoch, steps per second, progress. After each epoch and on a pause: test digits
 * with the model's answers, the learned weights, and the drawn digit's probabilities.
 *
 * The digits (about 21 MB of JSON) and the training code load when the view first opens
 * (train-data.ts); without WebGPU the view says so and loads nothing. #train-result carries data-state
 * (idle, loading, ready, running, paused, done, error, unavailable), data-steps, data-epoch,
 * data-accuracy, data-accuracies and data-steps-per-second; the loss chart's canvas data-losses and
 * data-smoothed, as [step, loss] pairs.
 */
import type { CrossEntropy } from '../src/index.js';
import type { DigitTrainer } from '../examples/digits/trainer.js';
import type { DigitSet } from '../examples/digits/mnist.js';
import type { LinearParameters } from './digit-image.js';
import { byId, messageOf } from './dom.js';
import { DrawnDigitPanel } from './drawn-digit.js';
import { formatCount, formatNumber } from './format.js';
import { TrainingCharts } from './train-charts.js';
import { showTestDigits, showWeights, type GridChoice } from './train-figures.js';

type Digits = typeof import('./train-data.js');
/** The training code and the split digits, once loaded. */
interface Loaded { readonly digits: Digits; readonly train: DigitSet; readonly test: DigitSet }
type State = 'idle' | 'loading' | 'ready' | 'running' | 'paused' | 'done' | 'error' | 'unavailable';

/** Read the loss every this many steps of an epoch (and at the very first step). */
const LOSS_EVERY = 10;
const LIMITS = { epochs: 100 } as const;

const input = (id: string) => byId<HTMLInputElement>(id);

/** A model's state at one moment: its parameters read back and its answers on the test digits. */
interface Snapshot {
  readonly parameters: LinearParameters;
  readonly predictions: Int32Array;
  readonly accuracy: number;
}

export class TrainView {
  readonly #ce: CrossEntropy | null;
  readonly #result = byId('train-result');
  readonly #charts = new TrainingCharts();
  readonly #drawn = new DrawnDigitPanel();
  #loading: Promise<void> | null = null;
  #data: Loaded | null = null;
  #trainer: DigitTrainer | null = null;
  #running: Promise<void> | null = null;
  #stop = false;
  #steps = 0;
  #losses: [number, number][] = [];
  #accuracies: [number, number][] = [];
  #seconds = 0;
  #recentRate: number | null = null;
  #snapshot: Snapshot | null = null;
  #frame = 0;
  /** The epochs to train in all: the form's, as last valid. */
  #epochs = 1;

  constructor(ce: CrossEntropy | null) {
    this.#ce = ce;
    const view = byId('view-train');
    byId<HTMLFormElement>('train-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#start();
    });
    byId('train-pause').addEventListener('click', () => { this.#stop = true; });
    byId('train-reset').addEventListener('click', () => void this.#reset());
    byId('train-form').addEventListener('input', () => {
      this.#sync();
      if (this.#steps > 0) this.#progress();
    });
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="train-digits"]')) {
      radio.addEventListener('change', () => this.#showSnapshot());
    }
    if (ce === null) {
      const notice = byId('train-notice');
      notice.hidden = false;
      notice.textContent = 'Training needs WebGPU, which this browser does not offer (see the card above): the digits are '
        + 'not loaded and nothing is trained. The single example works without it.';
      byId('train-body').hidden = true;
      this.#setState('unavailable');
      return;
    }
    view.addEventListener('shown', () => this.#load());
    if (!view.hidden) this.#load();
    this.#sync();
  }

  /** Loads the training code and the digits, once. */
  #load(): void {
    this.#loading ??= (async () => {
      this.#setState('loading');
      this.#status('Loading the training code and the 10,000 digits (about 21 MB)…');
      const start = performance.now();
      try {
        const digits = await import('./train-data.js');
        const { train, test } = digits.splitDigits(await digits.fetchDigits((loaded, of) => {
          this.#status(`Loading the 10,000 digits (about 21 MB): ${loaded} of ${of} classes…`);
        }));
        this.#data = { digits, train, test };
        this.#setState('ready');
        this.#status(`${formatCount(train.count)} training and ${formatCount(test.count)} test digits loaded in `
          + `${((performance.now() - start) / 1000).toFixed(1)} s. Press Start.`);
      } catch (error) {
        this.#setState('error');
        this.#status(`Could not load the digits: ${messageOf(error)}`);
      }
      this.#sync();
    })();
  }

  /** The form's settings, or why they cannot be used. */
  #settings(): { batchSize: number; learningRate: number; epochs: number } {
    const batchSize = Number(input('train-batch').value);
    const learningRate = Number(input('train-lr').value);
    const epochs = Number(input('train-epochs').value);
    const trainCount = this.#data?.train.count ?? Number(input('train-batch').max);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > trainCount) {
      throw new RangeError(`the batch size must be an integer from 1 to ${formatCount(trainCount)}, not ${input('train-batch').value}`);
    }
    if (!(Number.isFinite(learningRate) && learningRate > 0)) {
      throw new RangeError(`the learning rate must be a positive number, not ${input('train-lr').value}`);
    }
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > LIMITS.epochs) {
      throw new RangeError(`epochs must be an integer from 1 to ${LIMITS.epochs}, not ${input('train-epochs').value}`);
    }
    return { batchSize, learningRate, epochs };
  }

  /** Steps an epoch: the model's, or what the form's batch size would give. */
  #stepsPerEpoch(): number {
    return this.#trainer?.stepsPerEpoch ?? Math.floor((this.#data?.train.count ?? 0) / Number(input('train-batch').value));
  }

  /** The buttons and the settings hint, from the state. */
  #sync(): void {
    const state = this.#result.dataset.state as State;
    const running = state === 'running';
    const modelMade = this.#trainer !== null;
    input('train-batch').disabled = modelMade;
    input('train-lr').disabled = modelMade;
    let ok = true;
    let hint = '';
    try {
      const { epochs } = this.#settings();
      this.#epochs = epochs;
      const perEpoch = this.#stepsPerEpoch();
      if (this.#data) {
        hint = `${formatCount(perEpoch)} steps of ${this.#trainer ? this.#result.dataset.batchSize : input('train-batch').value} digits `
          + `an epoch (an epoch's last partial batch is left out), ${formatCount(perEpoch * epochs)} in all.`;
      }
      ok = this.#steps < perEpoch * epochs || !this.#data;
    } catch (error) {
      ok = false;
      hint = messageOf(error);
    }
    if (modelMade) hint += ' Batch size and learning rate are this model\'s: Reset to change them.';
    byId('train-settings-hint').textContent = hint;
    const start = byId<HTMLButtonElement>('train-start');
    start.disabled = running || !this.#data || !ok || this.#ce === null;
    start.textContent = this.#steps === 0 ? 'Start' : state === 'paused' ? 'Resume' : 'Continue';
    byId<HTMLButtonElement>('train-pause').disabled = !running;
    byId<HTMLButtonElement>('train-reset').disabled = !modelMade && this.#steps === 0;
  }

  #setState(state: State): void {
    this.#result.dataset.state = state;
    this.#sync();
  }

  #status(text: string): void {
    byId('train-status').textContent = text;
  }

  async #start(): Promise<void> {
    if (this.#running || !this.#data || !this.#ce) return;
    this.#stop = false;
    this.#running = this.#train(this.#ce, this.#data).finally(() => {
      this.#running = null;
      this.#sync();
    });
    await this.#running;
  }

  async #train(ce: CrossEntropy, data: Loaded): Promise<void> {
    try {
      const { batchSize, learningRate } = this.#settings();
      if (this.#trainer === null) {
        this.#status('Making the model and compiling its kernels…');
        this.#trainer = await data.digits.DigitTrainer.create(ce, data, { batchSize, learningRate, lossEvery: LOSS_EVERY });
        Object.assign(this.#result.dataset, { batchSize: String(batchSize), learningRate: String(learningRate) });
      }
      this.#setState('running');
      const trainer = this.#trainer;
      const perEpoch = trainer.stepsPerEpoch;
      let window = { steps: 0, seconds: 0 };
      while (!this.#stop && this.#steps < perEpoch * this.#epochs) {
        const inEpoch = (this.#steps % perEpoch) + 1;
        const readLoss = this.#steps === 0 || inEpoch % LOSS_EVERY === 0;
        const start = performance.now();
        const loss = await trainer.step({ readLoss });
        const seconds = (performance.now() - start) / 1000;
        this.#steps++;
        this.#seconds += seconds;
        window = { steps: window.steps + 1, seconds: window.seconds + seconds };
        if (loss !== undefined) {
          this.#losses.push([this.#steps, loss]);
          if (window.seconds > 0) this.#recentRate = window.steps / window.seconds;
          window = { steps: 0, seconds: 0 };
          this.#progress();
        }
        if (this.#steps % perEpoch === 0) {
          const accuracy = await this.#evaluate(trainer, data);
          this.#accuracies.push([this.#steps / perEpoch, accuracy]);
          this.#progress();
        }
      }
      const done = this.#steps >= perEpoch * this.#epochs;
      if (!done && this.#steps % perEpoch !== 0) await this.#evaluate(trainer, data);
      this.#setState(done ? 'done' : 'paused');
      this.#progress(true);
    } catch (error) {
      this.#setState('error');
      this.#status(`Training failed: ${messageOf(error)}`);
    }
  }

  /** Reads the parameters, classifies the test digits, and shows what the model does now. */
  async #evaluate(trainer: DigitTrainer, data: Loaded): Promise<number> {
    const parameters = await trainer.model.read();
    const predictions = data.digits.predict(parameters, data.test);
    const accuracy = data.digits.accuracy(predictions, data.test.labels);
    this.#snapshot = { parameters, predictions, accuracy };
    this.#showSnapshot();
    this.#drawn.parameters = parameters;
    return accuracy;
  }

  #showSnapshot(): void {
    const snapshot = this.#snapshot;
    const grid = byId('train-digits');
    const summary = byId('train-digits-summary');
    if (snapshot === null || this.#data === null) {
      grid.replaceChildren();
      byId('train-weights').replaceChildren();
      summary.textContent = 'After an epoch (or a pause): test digits with the class the model gives each and its probability; '
        + 'mistakes marked in red, with the true class.';
      return;
    }
    const choice = (document.querySelector<HTMLInputElement>('input[name="train-digits"]:checked')?.value ?? 'first') as GridChoice;
    const { mistakes, shown } = showTestDigits(grid, this.#data.test, snapshot.predictions, snapshot.parameters, choice);
    const perEpoch = this.#trainer?.stepsPerEpoch ?? 1;
    const at = this.#steps % perEpoch === 0 ? `after epoch ${this.#steps / perEpoch}` : `at step ${formatCount(this.#steps)}`;
    summary.textContent = `The model ${at} gets ${formatCount(mistakes)} of ${formatCount(this.#data.test.count)} test digits wrong. `
      + `Shown: ${choice === 'first' ? `the first ${shown}` : `${shown} of the mistakes`}, each with the class the model gives it `
      + 'and that class\'s probability; mistakes in red, with the true class.';
    showWeights(byId('train-weights'), snapshot.parameters.weight);
  }

  /** Updates the figures now (`now`) or at the next frame, at most once a frame. */
  #progress(now = false): void {
    if (now) {
      cancelAnimationFrame(this.#frame);
      this.#frame = 0;
      this.#render();
    } else if (this.#frame === 0) {
      this.#frame = requestAnimationFrame(() => {
        this.#frame = 0;
        this.#render();
      });
    }
  }

  #render(): void {
    const perEpoch = Math.max(1, this.#stepsPerEpoch());
    const epochs = this.#epochs;
    const total = perEpoch * epochs;
    const [done, into] = [Math.floor(this.#steps / perEpoch), this.#steps % perEpoch];
    const rate = this.#seconds > 0 ? this.#steps / this.#seconds : null;
    const state = this.#result.dataset.state as State;
    const smoothed = this.#charts.show(this.#losses, this.#accuracies, total, epochs);
    Object.assign(this.#result.dataset, {
      steps: String(this.#steps), epoch: String(done), accuracy: this.#snapshot ? String(this.#snapshot.accuracy) : '',
      accuracies: JSON.stringify(this.#accuracies), stepsPerSecond: rate === null ? '' : String(rate),
    });
    byId('train-accuracy').textContent = this.#snapshot ? formatNumber(this.#snapshot.accuracy, 4) : '—';
    byId('train-epoch').textContent = this.#steps === 0 ? '—' : into === 0 ? `${done} of ${epochs} done`
      : `${done + 1} of ${epochs}, at step ${formatCount(into)} of ${formatCount(perEpoch)}`;
    const latest = smoothed.at(-1);
    byId('train-loss').textContent = latest ? `${formatNumber(latest[1], 4)} smoothed (${formatNumber(this.#losses.at(-1)![1], 4)} as read)` : '—';
    const shownRate = state === 'running' && this.#recentRate !== null ? `${formatNumber(this.#recentRate, 3)} now, ` : '';
    byId('train-rate').textContent = rate === null ? '—' : `${shownRate}${formatNumber(rate, 3)} on average (the kernels' compilation included)`;
    byId<HTMLProgressElement>('train-progress').value = Math.min(1, this.#steps / total);
    const status = this.#statusText(state, total);
    if (status !== null) this.#status(status);
  }

  /** The status line for a state training set, or null to leave it as it is. */
  #statusText(state: State, total: number): string | null {
    const steps = `${formatCount(this.#steps)} of ${formatCount(total)} steps`;
    switch (state) {
      case 'running': return `Training: ${steps}.`;
      case 'paused': return `Paused after ${steps}. Resume, or Reset to start again.`;
      case 'done': return `Done: ${steps}, test accuracy ${formatNumber(this.#snapshot?.accuracy ?? NaN, 4)}. Raise the epochs to train on, `
        + 'or Reset.';
      default: return null;
    }
  }

  /** Stops any training, frees the model, and clears what was shown. */
  async #reset(): Promise<void> {
    this.#stop = true;
    await this.#running;
    this.#trainer?.destroy();
    this.#trainer = null;
    this.#steps = 0;
    this.#seconds = 0;
    this.#recentRate = null;
    this.#losses = [];
    this.#accuracies = [];
    this.#snapshot = null;
    this.#drawn.parameters = null;
    delete this.#result.dataset.batchSize;
    delete this.#result.dataset.learningRate;
    this.#showSnapshot();
    this.#setState(this.#data ? 'ready' : 'idle');
    this.#progress(true);
    if (this.#data) this.#status('A new model, every weight 0. Press Start.');
  }
}
