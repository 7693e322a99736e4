/**
 * Whether the row kernels use subgroup operations on a device, and at what subgroup size.
 *
 * The subgroup form of row-stats has a subgroup walk each chunk of a row interleaved (neighbouring
 * invocations read neighbouring vec4s: one coalesced run per step on a GPU) and merge with
 * subgroup operations. On a CPU implementation of WebGPU it does not pay: on SwiftShader the
 * interleaved walk was slower than one invocation per chunk reading its own contiguous run
 * (per-lane streams suit a CPU's caches and prefetchers), so by default it is used
 * only where the device has the feature and the adapter is not a software one.
 */

/** Adapters that run WebGPU on the CPU, by the names they report. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|warp|software/i;

/** `true`: use subgroups (the device must have them); `false`: never; absent: where they pay. */
export type SubgroupChoice = boolean | undefined;

/** Whether the adapter behind `device` is a software (CPU) implementation. */
export function isSoftwareAdapter(info: GPUAdapterInfo | undefined): boolean {
  if (info === undefined) return false;
  return info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}

/**
 * The subgroup size the row kernels should use on `device` (0: none). Each subgroup workgroup has
 * the adapter's smallest subgroup size, so that it is exactly one subgroup.
 */
export function subgroupSizeFor(device: GPUDevice, choice: SubgroupChoice): number {
  // Older implementations lack device.adapterInfo: without it the size is unknown, so no subgroups.
  const info = device.adapterInfo as GPUAdapterInfo | undefined;
  const size = info?.subgroupMinSize ?? 0;
  const usable = device.features.has('subgroups') && size > 0
    && size <= device.limits.maxComputeInvocationsPerWorkgroup;
  if (choice === true && !usable) {
    throw new TypeError(`CrossEntropy.create: options.subgroups is true, but ${device.features.has('subgroups')
      ? `the device reports no usable subgroup size (adapterInfo.subgroupMinSize = ${size})`
      : "the device lacks the 'subgroups' feature (request it in requestDevice's requiredFeatures)"}`);
  }
  if (choice === false || !usable) return 0;
  return choice === true || !isSoftwareAdapter(info) ? size : 0;
}
