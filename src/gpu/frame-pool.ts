/**
 * Reuse of prepared calls. A frame is everything one call needs on the GPU (buffers, uniforms, bind
 * groups, staging), prepared once for a shape and a set of input buffers; a repeated call with the
 * same key takes an idle frame and creates nothing. Frames are capped per key and keys are evicted
 * least recently used first, so memory stays bounded however many shapes a caller uses.
 */

/** A prepared call that can be reused. */
export interface Frame {
  readonly key: string;
  destroy(): void;
}

/** Frames kept per key: enough for a few calls in flight at once. */
const MAX_FRAMES_PER_KEY = 4;
/** Keys kept: shapes (and input buffers) a training loop alternates between. */
const MAX_KEYS = 8;

interface Slot<F> {
  readonly frame: F;
  busy: boolean;
}

export class FramePool<F extends Frame> {
  /** Keys in least-recently-used order (Map iteration order), each with its frames. */
  readonly #slots = new Map<string, Slot<F>[]>();
  readonly #temporary = new Set<F>();

  /** An idle frame for `key`, or a new one from `create` (kept if under the cap, else temporary). */
  acquire(key: string, create: () => F): F {
    const slots = this.#slots.get(key) ?? [];
    this.#slots.delete(key);
    this.#slots.set(key, slots);
    const idle = slots.find((slot) => !slot.busy);
    if (idle) {
      idle.busy = true;
      return idle.frame;
    }
    const frame = create();
    if (slots.length < MAX_FRAMES_PER_KEY) slots.push({ frame, busy: true });
    else this.#temporary.add(frame);
    this.#evict();
    return frame;
  }

  /** A frame kept for `key`, idle or not (what its calls share can be taken from it), or undefined. */
  peek(key: string): F | undefined {
    return this.#slots.get(key)?.[0]?.frame;
  }

  /** Returns a frame after its call; a temporary or evicted one is destroyed. */
  release(frame: F): void {
    if (this.#temporary.delete(frame)) {
      frame.destroy();
      return;
    }
    const slot = this.#slots.get(frame.key)?.find((s) => s.frame === frame);
    if (slot) slot.busy = false;
    else frame.destroy();
  }

  /** Drops a frame whose call failed (its state is unknown). */
  discard(frame: F): void {
    const slots = this.#slots.get(frame.key);
    const at = slots?.findIndex((s) => s.frame === frame) ?? -1;
    if (at >= 0) slots!.splice(at, 1);
    this.#temporary.delete(frame);
    frame.destroy();
  }

  /** Destroys every frame (in use or not). */
  destroy(): void {
    for (const slots of this.#slots.values()) slots.forEach((s) => s.frame.destroy());
    this.#temporary.forEach((f) => f.destroy());
    this.#slots.clear();
    this.#temporary.clear();
  }

  /** How many frames are kept, and how many of them are in use. */
  get size(): { frames: number; busy: number } {
    let frames = this.#temporary.size;
    let busy = this.#temporary.size;
    for (const slots of this.#slots.values()) {
      frames += slots.length;
      busy += slots.filter((s) => s.busy).length;
    }
    return { frames, busy };
  }

  #evict(): void {
    for (const [key, slots] of this.#slots) {
      if (this.#slots.size <= MAX_KEYS) return;
      const idle = slots.filter((s) => !s.busy);
      idle.forEach((s) => s.frame.destroy());
      const busy = slots.filter((s) => s.busy);
      // Busy frames of an evicted key are destroyed when released.
      this.#slots.delete(key);
      busy.forEach((s) => this.#temporary.add(s.frame));
    }
  }
}
