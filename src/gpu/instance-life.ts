/**
 * Whether a CrossEntropy instance can still run calls: not once it is destroyed, nor once its
 * device is lost. A call that fails because one of them happened while it was in flight (a WebGPU
 * error, an aborted map) rejects saying so, with the symptom as its cause.
 */
export class InstanceLife {
  #lostReason: string | undefined;
  #destroyed = false;

  constructor(device: GPUDevice) {
    void device.lost.then((info) => {
      this.#lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /**
   * Rejects a device that was lost (or destroyed) before `create` was given it. A device destroyed
   * long before has its `lost` settled already; the subscription made in the constructor sees it
   * only once a task has run, so one is given here.
   */
  async checkAlive(): Promise<void> {
    if (this.#lostReason === undefined) await new Promise((resolve) => setTimeout(resolve, 0));
    this.checkStillAlive();
  }

  /** As `checkAlive`, without waiting: for a device lost while `create` was building its kernels. */
  checkStillAlive(): void {
    if (this.#lostReason !== undefined) {
      throw new Error(`CrossEntropy.create: the device is lost (${this.#lostReason}): it was destroyed, or its GPU `
        + 'was reset or removed; pass a live GPUDevice');
    }
  }

  /** Marks the instance destroyed; returns false if it already was. */
  end(): boolean {
    if (this.#destroyed) return false;
    this.#destroyed = true;
    return true;
  }

  /** Why `CrossEntropy.<operation>` cannot run (destroyed, or its device lost), if it cannot. */
  unusable(operation: string, inFlight = false, cause?: unknown): Error | undefined {
    if (this.#destroyed) {
      return new Error(`CrossEntropy.${operation}: this instance was destroyed${inFlight ? ' while the call was in flight'
        : ''}; create a new one`, { cause });
    }
    if (this.#lostReason !== undefined) {
      return new Error(`CrossEntropy.${operation}: the GPU device was lost (${this.#lostReason}); `
        + 'create a new CrossEntropy on a new device', { cause });
    }
    return undefined;
  }

  /** Throws `unusable`'s error, if there is one. */
  check(operation: string, inFlight = false): void {
    const error = this.unusable(operation, inFlight);
    if (error) throw error;
  }

  /** Runs the GPU part of a call; a failure caused by destroy() or a lost device says so. */
  async guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      // device.lost settles in a task of its own: give it one before deciding.
      if (this.unusable(operation) === undefined) await new Promise((resolve) => setTimeout(resolve, 0));
      throw this.unusable(operation, true, error) ?? error;
    }
  }
}
