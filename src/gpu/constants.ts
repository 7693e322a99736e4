/**
 * WebGPU flag values, fixed by the WebGPU specification.
 *
 * Named here instead of read from the `GPUBufferUsage` / `GPUMapMode` / `GPUShaderStage` globals
 * because Node hosts (the `webgpu` package) do not install those globals unless asked to, and this
 * package must import and run there without touching global state.
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

export const MapMode = { READ: 0x0001 } as const;

export const ShaderStage = { COMPUTE: 0x4 } as const;

/** Bytes in one f32 or i32 element. */
export const ELEMENT_BYTES = 4;
