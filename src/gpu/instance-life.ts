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
