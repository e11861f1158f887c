/**
 * The CPU cores a local engine's chunks share. A chunk takes its threads before it starts and
 * gives them back when it ends, so the threads of all running chunks never exceed the cores.
 *
 * Why it matters: ggml's threads wait for each other at every graph node by spinning. When a layout
 * change lets a new 1-thread chunk start while a 2-thread chunk of the old layout still runs (three
 * threads on two cores), the spinning thread burns the core its partner needs: in a 60-minute job
 * one such chunk took 216 s instead of 22 s and the whole job ran 40% longer (npm run bench).
 */
import { abortError } from "../errors";
import { WakeList } from "./wakeList";

export class CoreBudget {
  private used = 0;
  private readonly released = new WakeList();

  constructor(readonly cores: number) {}

  /** Threads taken now. */
  get inUse(): number {
    return this.used;
  }

  /**
   * Waits until `want()` threads are free and takes them. `want` is asked again after every
   * release: the layout (and so a chunk's share of the cores) may change while it waits.
   */
  async take(want: () => number, signal?: AbortSignal): Promise<number> {
    for (;;) {
      if (signal?.aborted) throw abortError();
      const n = Math.min(this.cores, Math.max(1, Math.floor(want())));
      if (this.used + n <= this.cores) {
        this.used += n;
        return n;
      }
      await this.released.next(signal);
    }
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
    this.released.wakeAll();
  }
}
