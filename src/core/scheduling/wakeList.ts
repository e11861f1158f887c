/**
 * Callers waiting until "something changed" (threads given back, a chunk settled, the pool went
 * idle): each wait ends at the next `wakeAll`, or when its signal aborts; the caller looks again.
 */
export class WakeList {
  private waiters: (() => void)[] = [];

  /** Resolves at the next `wakeAll`, or when `signal` aborts. */
  next(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      this.waiters.push(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });
  }

  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
