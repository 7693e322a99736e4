/**
 * The uniform blocks of one call, packed into one buffer at offsets the device accepts, so a call
 * writes its parameters with a single writeBuffer. Layouts mirror the `Params` structs of the shaders.
 */
import type { Problem } from '../options.js';
import type { WorkPlan } from '../plan.js';

const INPUT_KIND_CODES = { logits: 0, probabilities: 1, logProbabilities: 2 } as const;
const TARGET_KIND_CODES = { classIndex: 0, probabilities: 1 } as const;

/** Bytes of row-stats / row-loss `Params` (11 scalars, rounded up to a 16-byte multiple). */
const ROW_PARAMS_BYTES = 48;
/** Bytes of batch-reduce `Params` (3 scalars, rounded up to a 16-byte multiple). */
const REDUCE_PARAMS_BYTES = 16;

/** Where each block lives in the packed buffer. */
export interface UniformLayout {
  readonly bytes: number;
  readonly rowParams: GPUBufferBinding & { size: number };
  readonly reduceParams: readonly (GPUBufferBinding & { size: number })[];
}

/** Packs the uniform blocks for a call. `alignment` is minUniformBufferOffsetAlignment. */
export function packUniforms(problem: Problem, plan: WorkPlan, hasWeight: boolean, alignment: number,
  buffer: (bytes: number) => GPUBuffer): { layout: UniformLayout; data: ArrayBuffer } {
  const slot = Math.ceil(ROW_PARAMS_BYTES / alignment) * alignment;
  const bytes = slot * (1 + plan.reduceLevels.length);
  const gpu = buffer(bytes);
  const data = new ArrayBuffer(bytes);

  const u32 = new Uint32Array(data, 0, ROW_PARAMS_BYTES / 4);
  const i32 = new Int32Array(data, 0, ROW_PARAMS_BYTES / 4);
  const f32 = new Float32Array(data, 0, ROW_PARAMS_BYTES / 4);
  u32[0] = plan.rows;
  u32[1] = plan.classes;
  u32[2] = plan.inner;
  u32[3] = plan.chunks;
  u32[4] = plan.chunkLen;
  u32[5] = INPUT_KIND_CODES[problem.input];
  u32[6] = TARGET_KIND_CODES[problem.targetKind];
  u32[7] = hasWeight ? 1 : 0;
  i32[8] = problem.ignoreIndex;
  f32[9] = problem.labelSmoothing;
  u32[10] = problem.targetKind === 'classIndex' && problem.labelSmoothing > 0 ? 1 : 0;

  const reduceParams = plan.reduceLevels.map((level, i) => {
    const offset = slot * (1 + i);
    const view = new Uint32Array(data, offset, REDUCE_PARAMS_BYTES / 4);
    view[0] = level.count;
    view[1] = level.chunk;
    view[2] = i === plan.reduceLevels.length - 1 && problem.reduction === 'mean' ? 1 : 0;
    return { buffer: gpu, offset, size: REDUCE_PARAMS_BYTES };
  });
  return {
    layout: { bytes, rowParams: { buffer: gpu, offset: 0, size: ROW_PARAMS_BYTES }, reduceParams },
    data,
  };
}
