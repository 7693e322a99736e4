/** What a tensor's data is: which typed array, or a GPU buffer. Used by validation and the GPU layer. */

/**
 * Whether a value is a GPUBuffer. Checked by shape, not `instanceof`, because Node hosts of WebGPU
 * need not install the `GPUBuffer` global.
 */
export function isGpuBuffer(value: unknown): value is GPUBuffer {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<GPUBuffer>;
  return typeof candidate.mapAsync === 'function'
    && typeof candidate.size === 'number'
    && typeof candidate.usage === 'number';
}

/**
 * Whether a typed array's buffer was detached (transferred to a worker, or by structuredClone): it
 * then reads as empty. Constructing a view is the check that works on every Node this package
 * supports (`ArrayBuffer.prototype.detached` is newer).
 */
export function isDetached(value: unknown): boolean {
  if (!ArrayBuffer.isView(value) || value.byteLength !== 0) return false;
  try {
    new Uint8Array(value.buffer);
    return false;
  } catch {
    return true;
  }
}

/** A readable name for a value in error messages: the typed array's class, "GPUBuffer", etc. */
export function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (isGpuBuffer(value)) return 'GPUBuffer';
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'object') return `${isDetached(value) ? 'detached ' : ''}${value.constructor?.name ?? 'Object'}`;
  // String() keeps NaN and Infinity, which JSON.stringify turns into null; strings are quoted.
  return `${typeof value} ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
}
