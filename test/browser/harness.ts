/**
 * Runs in headless Chromium: computes cross-entropy cases on the browser's own WebGPU adapter with
 * the library's source (served by Vite) and hands the raw results back to the Node test.
 * Arrays travel as base64 of their bytes so -inf and NaN survive the trip.
 */
import { CrossEntropy, type CrossEntropyOptions, type HalfDtype } from '../../src/index.js';
import { fromBase64, toBase64 } from './transfer.js';

export interface WireCase {
  /**
   * 16-bit logits carry their dtype; `asFloat16Array` passes float16 bits as a Float16Array where
   * the browser has one.
   */
  logits: { data: string; shape: number[]; dtype?: HalfDtype; asFloat16Array?: boolean };
  target: { data: string; kind: 'int32' | 'float32'; shape: number[] };
  options: Omit<CrossEntropyOptions, 'weight' | 'gradOutput'> & { weight?: string; gradOutput?: string };
}

export interface WireResult {
  loss: number | string;
  grad?: string;
  /** The logits went in as a Float16Array. */
  float16Array?: boolean;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
}

declare global {
  interface Window {
    runCrossEntropyCases(cases: WireCase[]): Promise<{ adapter: AdapterSummary | null; results: WireResult[] }>;
    harnessReady: boolean;
  }
}

window.runCrossEntropyCases = async (cases) => {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return { adapter: null, results: [] };
  const info = adapter.info;
  const summary: AdapterSummary = {
    vendor: info.vendor, architecture: info.architecture, description: info.description,
    isFallbackAdapter: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    features: [...adapter.features],
  };
  const ce = await CrossEntropy.create({ poisonOutputs: true });
  try {
    const results: WireResult[] = [];
    for (const c of cases) {
      const float16Array = c.logits.asFloat16Array === true && 'Float16Array' in globalThis;
      const raw = fromBase64(c.logits.data);
      const logits = c.logits.dtype === undefined ? { data: new Float32Array(raw), shape: c.logits.shape }
        : { data: float16Array ? new (globalThis as unknown as { Float16Array: typeof Uint16Array }).Float16Array(raw)
          : new Uint16Array(raw), shape: c.logits.shape, dtype: c.logits.dtype };
      const bytes = fromBase64(c.target.data);
      const target = { data: c.target.kind === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes), shape: c.target.shape };
      const { weight, gradOutput, ...rest } = c.options;
      const options: CrossEntropyOptions = {
        ...rest,
        ...(weight ? { weight: new Float32Array(fromBase64(weight)) } : {}),
        ...(gradOutput ? { gradOutput: new Float32Array(fromBase64(gradOutput)) } : {}),
      };
      const { loss, grad } = await ce.forward(logits, target, options);
      results.push({ loss: typeof loss === 'number' ? loss : toBase64(loss), ...(grad ? { grad: toBase64(grad) } : {}),
        ...(float16Array ? { float16Array } : {}) });
    }
    return { adapter: summary, results };
  } finally {
    ce.destroy();
  }
};
window.harnessReady = true;
