/**
 * The engine host's sessions (one per configuration, each holding at most one loaded model). A
 * session in use is never touched; of the idle ones only the most recently used stays loaded
 * (switching the default model must not leave the old one resident), and the host is told to exit
 * once nothing has run for `idleExitMs`.
 */
import { FleetSession } from "../core/FleetSession";

interface Entry {
  session: FleetSession;
  busy: number;
  lastUsed: number;
}

export interface SessionMemory {
  key: string;
  busy: boolean;
  /** Bytes of the loaded model and its workers' states, as the addon reports them; 0 when none is loaded. */
  bytes: number;
  /** The model's weights alone (the rest is one state per worker, which varies with the layout). */
  weightsBytes?: number;
  model?: string;
}

export class SessionPool {
  private readonly entries = new Map<string, Entry>();
  private idleTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly create: (key: string) => FleetSession,
    private readonly options: { maxIdle?: number; idleExitMs?: number; onIdleExit?: () => void; now?: () => number } = {},
  ) {}

  /** The session for `key`, marked busy until `release(key)`. */
  acquire(key: string): FleetSession {
    clearTimeout(this.idleTimer);
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { session: this.create(key), busy: 0, lastUsed: this.now() }));
    entry.busy++;
    return entry.session;
  }

  async release(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry) {
      entry.busy = Math.max(0, entry.busy - 1);
      entry.lastUsed = this.now();
    }
    await this.trim();
    this.armIdleExit();
  }

  /** Disposes idle sessions beyond the newest `maxIdle` (default 1). */
  async trim(): Promise<void> {
    const idle = [...this.entries].filter(([, e]) => e.busy === 0).sort((a, b) => b[1].lastUsed - a[1].lastUsed);
    for (const [key, entry] of idle.slice(this.options.maxIdle ?? 1)) {
      this.entries.delete(key);
      await entry.session.dispose().catch(() => undefined);
    }
  }

  memory(): SessionMemory[] {
    return [...this.entries].map(([key, e]) => ({ key, busy: e.busy > 0, ...e.session.loadedMemory() }));
  }

  async dispose(): Promise<void> {
    clearTimeout(this.idleTimer);
    for (const e of this.entries.values()) await e.session.dispose().catch(() => undefined);
    this.entries.clear();
  }

  private armIdleExit(): void {
    clearTimeout(this.idleTimer);
    const ms = this.options.idleExitMs;
    if (!ms || [...this.entries.values()].some((e) => e.busy > 0)) return;
    this.idleTimer = setTimeout(() => this.options.onIdleExit?.(), ms);
    this.idleTimer.unref?.();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
