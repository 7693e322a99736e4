/**
 * Encodes binary cross-entropy: the elementwise kernel (loss and gradient in one pass), then the
 * batch-reduce levels with a mean over all elements.
 */
import type { BinaryOptions, BinaryProblem } from '../binary.js';
import { Divide } from '../passes.js';
import { planReduction, reductionInputBytes } from '../plan.js';
import { isGpuBuffer } from '../tensor-data.js';
import type { ForwardResult, LogitsInput, Reduction, TargetInput, Dtype } from '../types.js';
import type { CallBuffers } from './buffers.js';
import { BufferUsage, ELEMENT_BYTES } from './constants.js';
import { encodeDispatches, prepareDispatch, type PreparedDispatch } from './dispatch.js';
import type { Kernel } from './pipelines.js';
import { dataBytes } from '../options.js';
import { uploadedLogits } from '../half-precision.js';
import { writeArray } from './host-data.js';
import { BINARY_PARAMS, REDUCE_PARAMS } from './shader-structs.js';
import { uniformBlock, uniformBlocks, type UniformBlock } from './uniforms.js';

/** A binary run's buffers, read back once. */
export interface BinaryRun {
  /** The loss: one value, or one per element for 'none' (padded to whole 16 bytes). */
  readonly loss: GPUBuffer;
  /** The gradient, when asked for: the input's buffer when in place. */
  readonly grad?: GPUBuffer;
  read(): Promise<ForwardResult<Reduction, boolean, Dtype>>;
  destroy(): void;
}

/**
 * Throws a RangeError, before any GPU work, where a binding of the call would exceed the device's
 * maxStorageBufferBindingSize: binary cross-entropy binds its input and its element losses whole.
 */
export function checkBinaryBindings(limits: GPUSupportedLimits, problem: BinaryProblem, logits: LogitsInput<Dtype>): void {
  const check = (name: string, bytes: number) => {
    const limit = limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new RangeError(`${name}: ${bytes} bytes, over this device's maxStorageBufferBindingSize `
        + `(${limit}); binary cross-entropy in pieces is not implemented yet`);
    }
  };
  check('logits', isGpuBuffer(logits.data) ? logits.data.size : logits.data.byteLength);
  // Only where the binding limit is not a multiple of 16 can the padded losses exceed it.
  check('the element losses (padded to whole vec4s for the batch reduction)', reductionInputBytes(problem.size));
}

function binaryParams(problem: BinaryProblem, options: BinaryOptions, inPlace: boolean): UniformBlock {
  return uniformBlock(BINARY_PARAMS, {
    count: problem.size,
    input_kind: problem.input === 'logits' ? 0 : 1,
    has_weight: options.weight ? 1 : 0,
    weight_len: options.weight?.length ?? 1,
    has_pos_weight: options.posWeight ? 1 : 0,
    pos_weight_len: options.posWeight?.length ?? 1,
    has_grad_output: options.gradOutput ? 1 : 0,
    want_grad: problem.grad ? 1 : 0,
    in_place: inPlace ? 1 : 0,
    grad_scale: problem.reduction === 'mean' ? 1 / problem.size : 1,
  });
}

/** The kernels a binary call runs: `binary` (f32 inputs) or `binaryHalf` (16-bit), and batchReduce. */
export interface BinaryKernels {
  readonly elementwise: Kernel;
  readonly batchReduce: Kernel;
}

export function encodeBinary(device: GPUDevice, kernels: BinaryKernels, buffers: CallBuffers, encoder: GPUCommandEncoder,
  problem: BinaryProblem, logits: LogitsInput<Dtype>, target: TargetInput, options: BinaryOptions): BinaryRun {
  const placeholder = buffers.placeholder();
  const upload = (label: string, data: Float32Array | Float64Array | Int32Array | GPUBuffer, extraUsage = 0) =>
    (isGpuBuffer(data) ? data : buffers.upload(label, data as Float32Array, extraUsage));
  const half = problem.dtype !== 'float32';
  // A host input is a private copy, so the gradient may go over it (when it has the input's dtype).
  const inPlace = problem.grad && (problem.gradInPlace || (!isGpuBuffer(logits.data) && problem.gradDtype === problem.dtype));
  const inputUsage = inPlace ? BufferUsage.COPY_SRC : 0;
  let input: GPUBuffer;
  if (isGpuBuffer(logits.data)) {
    input = logits.data;
  } else {
    const data = uploadedLogits(logits.data);
    input = buffers.storage('logits', Math.max(4, Math.ceil(data.byteLength / 4) * 4), inputUsage);
    if (data.byteLength > 0) writeArray(device, input, data);
  }
  const levels = problem.reduction === 'none' ? [] : planReduction(problem.size);
  const lastLevel = levels.length - 1;
  const divide = problem.reduction === 'mean' ? Divide.byCount : Divide.none;
  const [params, ...levelParams] = uniformBlocks(device, device.limits.minUniformBufferOffsetAlignment,
    (bytes, usage) => buffers.create('binary-params', bytes, usage), [
      binaryParams(problem, options, inPlace),
      ...levels.map((level, i) => uniformBlock(REDUCE_PARAMS, { count: level.count, chunk: level.chunk,
        divide: i === lastLevel ? divide : Divide.none, denominator: problem.size })),
    ]);
  const elemLoss = buffers.output('element-loss', reductionInputBytes(problem.size));
  // Without a gradient the kernel still binds a writable `grad`: a buffer of its own (a read-only
  // placeholder may not also be bound writable in the same dispatch).
  const grad = !problem.grad ? buffers.output('no-grad', ELEMENT_BYTES)
    : inPlace ? input : buffers.output('grad', Math.max(ELEMENT_BYTES, dataBytes(problem.size, problem.gradDtype)));

  const dispatches: (PreparedDispatch | null)[] = [prepareDispatch(device, kernels.elementwise,
    half ? Math.ceil(problem.size / 2) : problem.size, {
    params: params!,
    [half ? 'logits' : 'prediction']: inPlace ? placeholder : input,
    label: upload('target', target.data),
    weight: options.weight ? upload('weight', options.weight) : placeholder,
    pos_weight: options.posWeight ? upload('pos-weight', options.posWeight) : placeholder,
    grad_output: options.gradOutput ? upload('grad-output', options.gradOutput) : placeholder,
    elem_loss: elemLoss,
    [half ? 'grad_words' : 'grad']: grad,
  })];
  let loss = elemLoss;
  levels.forEach((level, i) => {
    const out = buffers.output(`batch-loss-${i}`, reductionInputBytes(level.outputs));
    const outWeight = buffers.output(`batch-weight-${i}`, reductionInputBytes(level.outputs));
    // The element losses stand in for the weights too: only the count divides a binary mean.
    dispatches.push(prepareDispatch(device, kernels.batchReduce, level.outputs, { params: levelParams[i]!,
      in_loss: loss, in_weight: loss, out_loss: out, out_weight: outWeight }));
    loss = out;
  });
  encodeDispatches(encoder, 'cross-entropy:binary', dispatches);
  if (problem.size === 0 && problem.reduction !== 'none') {
    device.queue.writeBuffer(loss, 0, new Float32Array([problem.reduction === 'mean' ? NaN : 0]));
  }

  return {
    loss,
    grad: problem.grad ? grad : undefined,
    read: async () => {
      const ranges = [{ buffer: loss, bytes: (problem.reduction === 'none' ? problem.size : 1) * ELEMENT_BYTES }];
      if (problem.grad) ranges.push({ buffer: grad, bytes: dataBytes(problem.size, problem.gradDtype) });
      const [lossBytes, gradBytes] = await buffers.read(device.createCommandEncoder({ label: 'cross-entropy:read' }), ranges);
      const values = new Float32Array(lossBytes!);
      const result = { loss: problem.reduction === 'none' ? values : values[0]! };
      if (!gradBytes) return result;
      // A 16-bit gradient fills whole words: the last half-word of an odd count is not the result's.
      return { ...result, grad: problem.gradDtype === 'float32' ? new Float32Array(gradBytes)
        : new Uint16Array(gradBytes, 0, problem.size) };
    },
    destroy: () => buffers.destroy(),
  };
}
