/**
 * WebGPU reports validation, out-of-memory and internal errors asynchronously, through error scopes.
 * Every call's GPU work runs inside all three, pushed and popped with no await between (so
 * concurrent calls cannot interleave their scopes), and an error becomes a rejected call whose
 * WebGpuError says which operation failed, what kind of error it was and which object it names.
 */

/** The error filters of WebGPU, innermost first as they are popped. */
const FILTERS = ['validation', 'out-of-memory', 'internal'] as const satisfies readonly GPUErrorFilter[];
export type GpuErrorKind = (typeof FILTERS)[number];

/**
 * Objects a WebGPU message names: Dawn writes `[Buffer "label"]`, `[BufferDescriptor ""label""]` or
 * `[Device]`; other implementations may name none.
 */
const NAMED_OBJECT = /\[(\w+)(?: from \w+)?(?: "+([^"\]]*)"+| \(unlabeled\))?\]/g;

/** The object an error is about: the first one named with a label, else the first one named. */
function failedObject(message: string): { kind: string; label?: string } | undefined {
  const named = [...message.matchAll(NAMED_OBJECT)].map((m) => ({ kind: m[1]!, label: m[2] }));
  return named.find((o) => o.label !== undefined && o.label !== '') ?? named[0];
}

/** A WebGPU error caught in an error scope, with the operation and the object that failed. */
export class WebGpuError extends Error {
  /** Which scope caught it. */
  readonly kind: GpuErrorKind;
  /** The object the error names, as `Buffer "cross-entropy:row-summary"`, when it names one. */
  readonly object: string | undefined;

  constructor(operation: string, kind: GpuErrorKind, error: GPUError, callerBuffers: CallerBuffers = {}) {
    const named = failedObject(error.message);
    const object = named && `${named.kind}${named.label ? ` "${named.label}"` : ''}`;
    const argument = Object.entries(callerBuffers)
      .find(([, buffer]) => buffer !== undefined && buffer.label !== '' && buffer.label === named?.label)?.[0];
    const where = object === undefined ? '' : ` on ${object}${argument === undefined ? '' : ` (the caller's ${argument})`}`;
    super(`CrossEntropy.${operation}: WebGPU ${kind} error${where}: ${error.message.trim()}`, { cause: error });
    this.name = 'WebGpuError';
    this.kind = kind;
    this.object = object;
  }
}

/** The caller's GPUBuffers of a call, by argument name, so an error on one of them can say which. */
export type CallerBuffers = Readonly<Record<string, GPUBuffer | undefined>>;

/**
 * Runs `work` inside the three error scopes and returns what it returned, with `reported`: a promise
 * that rejects with a WebGpuError if WebGPU reported one (validation first, then out-of-memory, then
 * internal). If `work` throws, the scopes are popped and the error is thrown at once.
 */
export function inErrorScopes<T>(device: GPUDevice, operation: string, work: () => T,
  callerBuffers: CallerBuffers = {}): { value: T; reported: Promise<void> } {
  for (const filter of [...FILTERS].reverse()) device.pushErrorScope(filter);
  let value: T;
  try {
    value = work();
  } catch (error) {
    FILTERS.forEach(() => void device.popErrorScope().catch(() => {}));
    throw error;
  }
  const reported = Promise.all(FILTERS.map(() => device.popErrorScope())).then((errors) => {
    const at = errors.findIndex((e) => e !== null);
    if (at >= 0) throw new WebGpuError(operation, FILTERS[at]!, errors[at]!, callerBuffers);
  });
  return { value, reported };
}

/**
 * Runs asynchronous `work` with the three error scopes pushed until it settles, and resolves to
 * what it resolved to; rejects with what it threw, else with a WebGpuError if WebGPU reported one.
 * The scopes span awaits: only for work that nothing else runs beside (the benchmark's timed calls,
 * each alone on its device).
 */
export async function afterErrorScopes<T>(device: GPUDevice, operation: string, work: () => Promise<T>): Promise<T> {
  for (const filter of [...FILTERS].reverse()) device.pushErrorScope(filter);
  let outcome: { value: T } | { thrown: unknown };
  try {
    outcome = { value: await work() };
  } catch (error) {
    outcome = { thrown: error };
  }
  const errors = await Promise.all(FILTERS.map(() => device.popErrorScope()));
  if ('thrown' in outcome) throw outcome.thrown;
  const at = errors.findIndex((e) => e !== null);
  if (at >= 0) throw new WebGpuError(operation, FILTERS[at]!, errors[at]!);
  return outcome.value;
}
