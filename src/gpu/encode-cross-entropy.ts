/**
 * Encodes one cross-entropy call from its passes (passes.ts): the named buffers are resolved to the
 * call's inputs and to buffers of its own, each pass becomes a prepared dispatch, and encoding is a
 * loop over them: all at once, or piece by piece for logits streamed from the host. Every buffer it
 * makes belongs to the call's CallBuffers.
 */
import type { CrossEntropyPasses, Pass, Stage } from '../passes.js';
import type { CallBuffers } from './buffers.js';
import { encodeDispatches, prepareDispatch, type PreparedDispatch, type Resource } from './dispatch.js';
import type { KernelName } from './kernels.js';
import type { Kernel, Kernels } from './pipelines.js';
import { uniformBlocks } from './uniforms.js';
import { writeArray } from './host-data.js';

/** The first bad row of a status block when there is none. */
const NO_BAD_ROW = 0xffffffff;
/**
 * The bad-target count a status block holds until the call's commands run: they start by clearing
 * it to 0. A read that finds it has read before the work was submitted (a caller's encoder).
 */
export const NOT_RUN = 0xffffffff;

/** The GPU buffers a call reads. `weight` and `gradOutput` are absent when not given. */
export interface CrossEntropyInputs {
  readonly logits: GPUBuffer;
  readonly target: GPUBuffer;
  readonly weight?: GPUBuffer;
  readonly gradOutput?: GPUBuffer;
}

/** What the encoded work leaves on the GPU (see CrossEntropyPasses.results). */
export interface EncodedCrossEntropy {
  readonly loss: GPUBuffer;
  readonly grad?: GPUBuffer;
  readonly status: GPUBuffer;
  readonly rowLoss: GPUBuffer;
  readonly rowSummary: GPUBuffer | null;
}

/** The kernels a plan's passes run, compiled (each on its first use on the device). */
export type CompiledKernels = ReadonlyMap<KernelName, Kernel>;

export async function compileKernels(kernels: Kernels, plan: CrossEntropyPasses): Promise<CompiledKernels> {
  const names = kernelNames(plan);
  const compiled = await Promise.all(names.map((name) => kernels.get(name, plan.variant)));
  return new Map(names.map((name, i) => [name, compiled[i]!]));
}

/** compileKernels without waiting (Kernels.getSync): for a caller that encodes synchronously. */
export function compileKernelsSync(kernels: Kernels, plan: CrossEntropyPasses): CompiledKernels {
  return new Map(kernelNames(plan).map((name) => [name, kernels.getSync(name, plan.variant)]));
}

function kernelNames(plan: CrossEntropyPasses): KernelName[] {
  return [...new Set(plan.passes.map((pass) => pass.kernel))];
}

/**
 * One call's GPU work, prepared once: buffers, uniforms and bind groups are made here, so encoding
 * it again (the same shape and inputs, the next training step) creates nothing.
 */
export interface PreparedCrossEntropy {
  /** Where the results are (after `rebind`, the gradient in place is in the new logits). */
  readonly encoded: EncodedCrossEntropy;
  /**
   * Binds other input buffers of the same sizes (the caller's GPUBuffers of a new call), remaking
   * the bind groups that named the old ones; the call's own buffers stay. Nothing is made when the
   * inputs are the ones bound.
   */
  rebind(inputs: CrossEntropyInputs): void;
  /** Queue writes that must precede each run: status reset, poison, the empty-batch loss. */
  reset(): void;
  /** Encodes every pass into `encoder` (logits on the GPU). */
  encode(encoder: GPUCommandEncoder): void;
  /** The first command of a run, before any pass: marks the status as run. */
  markRun(encoder: GPUCommandEncoder): void;
  /**
   * The prepared dispatches of one stage (of one piece, for row and gradient passes), in order: for
   * a caller that interleaves them with its own work (the linear head makes each piece's logits).
   */
  stage(stage: Stage, piece?: number): readonly (PreparedDispatch | null)[];
  /**
   * Submits the work now: for logits streamed from the host, each piece uploaded into the one
   * piece buffer and its row passes submitted, then the reduction (GPU memory stays bounded); else
   * everything encoded at once. `finish`, if given, appends its commands to the last command
   * buffer (after all the work).
   */
  submit(logits: Float32Array | Uint16Array | GPUBuffer, finish?: (encoder: GPUCommandEncoder) => void): void;
}

export function prepareCrossEntropy(device: GPUDevice, kernels: CompiledKernels, buffers: CallBuffers,
  plan: CrossEntropyPasses, inputs: CrossEntropyInputs): PreparedCrossEntropy {
  if (plan.work.streamed && plan.passes.some((pass) => pass.stage !== 'rows' && pass.stage !== 'reduce')) {
    throw new Error('cross-entropy: streamed logits take row and reduce passes only');
  }
  const params = uniformBlocks(device, device.limits.minUniformBufferOffsetAlignment,
    (bytes, usage) => buffers.create('params', bytes, usage), plan.uniforms);
  const own = new Map<string, GPUBuffer>([['absent', buffers.placeholder()],
    ...plan.buffers.map(({ name, bytes }) => [name, buffers.output(name, bytes)] as const)]);

  /** The passes' dispatches and the results' buffers with `inputs` bound. */
  const bind = (inputs: CrossEntropyInputs) => {
    const named = new Map<string, GPUBuffer>([...own, ['logits', inputs.logits], ['target', inputs.target]]);
    if (inputs.weight) named.set('weight', inputs.weight);
    if (inputs.gradOutput) named.set('grad-output', inputs.gradOutput);
    const buffer = (name: string) => {
      const found = named.get(name);
      if (found === undefined) throw new Error(`cross-entropy: a pass binds ${name}, which this call lacks`);
      return found;
    };
    const prepare = (pass: Pass): PreparedDispatch | null => {
      const resources: Record<string, Resource> = { params: params[pass.uniforms]! };
      for (const [binding, slice] of Object.entries(pass.resources)) {
        resources[binding] = slice.size === undefined && slice.offset === undefined ? buffer(slice.buffer)
          : { buffer: buffer(slice.buffer), offset: slice.offset ?? 0, size: slice.size };
      }
      return prepareDispatch(device, kernels.get(pass.kernel)!, pass.invocations, resources);
    };
    const { results } = plan;
    const encoded: EncodedCrossEntropy = {
      loss: buffer(results.loss), status: buffer(results.status), rowLoss: buffer(results.rowLoss),
      grad: results.grad === null ? undefined : buffer(results.grad),
      rowSummary: results.rowSummary === null ? null : buffer(results.rowSummary),
    };
    return { inputs, encoded, dispatches: plan.passes.map((pass) => ({ pass, dispatch: prepare(pass) })) };
  };
  let bound = bind(inputs);
  const { work } = plan;
  const { status, loss } = bound.encoded;

  const resetStatus = new Uint32Array([NOT_RUN, NO_BAD_ROW]);
  // The first command of the work: the status says it ran (then the kernels count bad targets).
  const markRun = (encoder: GPUCommandEncoder) => encoder.clearBuffer(status, 0, 4);
  const emptyLoss = plan.emptyLoss === null ? null : new Float32Array([plan.emptyLoss]);
  const stage = (test: (pass: Pass) => boolean) => bound.dispatches.filter(({ pass }) => test(pass)).map((d) => d.dispatch);
  const prepared: PreparedCrossEntropy = {
    get encoded() {
      return bound.encoded;
    },
    rebind: (next) => {
      const now = bound.inputs;
      if (next.logits !== now.logits || next.target !== now.target || next.weight !== now.weight
          || next.gradOutput !== now.gradOutput) bound = bind(next);
    },
    reset: () => {
      buffers.poisonOutputs();
      device.queue.writeBuffer(status, 0, resetStatus);
      if (emptyLoss) device.queue.writeBuffer(loss, 0, emptyLoss);
    },
    markRun,
    stage: (name, piece) => stage((pass) => pass.stage === name && (piece === undefined || pass.piece === piece)),
    encode: (encoder) => {
      markRun(encoder);
      encodeDispatches(encoder, 'cross-entropy:forward', bound.dispatches.map((d) => d.dispatch));
    },
    submit: (logits, finish) => {
      if (!work.streamed) {
        const encoder = device.createCommandEncoder({ label: 'cross-entropy' });
        prepared.encode(encoder);
        finish?.(encoder);
        device.queue.submit([encoder.finish()]);
        return;
      }
      const hostLogits = logits as Float32Array | Uint16Array;
      work.pieces.forEach((piece, p) => {
        // Queue order: this write lands after the previous piece's submitted work has read the buffer.
        const from = piece.firstRow * work.classes;
        writeArray(device, bound.inputs.logits, hostLogits.subarray(from, from + piece.rows * work.classes));
        const encoder = device.createCommandEncoder({ label: 'cross-entropy:piece' });
        if (p === 0) markRun(encoder);
        encodeDispatches(encoder, 'cross-entropy:piece', stage((pass) => pass.stage === 'rows' && pass.piece === p));
        device.queue.submit([encoder.finish()]);
      });
      const encoder = device.createCommandEncoder({ label: 'cross-entropy:reduce' });
      encodeDispatches(encoder, 'cross-entropy:reduce', stage((pass) => pass.stage === 'reduce'));
      finish?.(encoder);
      device.queue.submit([encoder.finish()]);
    },
  };
  return prepared;
}
