/**
 * The front end's side of the engine host: starts the child on first use, sends it jobs, relays
 * progress and cancellation, and turns a dead child into a clean ENGINE_CRASHED failure; the next
 * job starts a new child.
 */
import { fork, type ChildProcess } from "node:child_process";

import { abortError, FleetError } from "../core/errors";
import type { ConfigSource } from "../core/config";
import type { TranscribeFileOptions } from "../core/FleetSession";
import type { ProgressSnapshot } from "../core/scheduling/progress";
import type { Segment, Transcript } from "../core/types";
import type { CostEstimate } from "../core/cloud/cloudModels";
import type { HostEvent, HostRequest } from "./protocol";
import type { SessionMemory } from "./SessionPool";

export interface EngineClientOptions {
  /** The bundled host entry (src/engine-host.ts: engine-host.js in the built extension). */
  hostPath: string;
  /** Node binary to run it with; default: the current one (Raycast's own Node). */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
}

interface Pending {
  resolve(t: Transcript): void;
  reject(e: FleetError): void;
  onProgress?: (s: ProgressSnapshot) => void;
  onSegments?: (segments: Segment[]) => void;
  onTracked?: (entryId: string) => void;
  confirmCost?: (estimate: CostEstimate) => Promise<boolean>;
}

export class EngineClient {
  private child?: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly statusWaiters = new Map<number, (sessions: SessionMemory[]) => void>();

  constructor(private readonly options: EngineClientOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private start(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null && this.child.connected) return this.child;
    const child = fork(this.options.hostPath, [], {
      execPath: this.options.execPath ?? process.execPath,
      execArgv: [],
      env: { ...(this.options.env ?? process.env), WHISPER_FLEET_ENGINE_HOST: "1" },
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      // Its own process group: the host outlives a command Raycast unloads (see release()).
      detached: true,
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on("message", (event: HostEvent) => this.onEvent(event));
    child.on("exit", (code, signal) => {
      if (this.child === child) this.child = undefined;
      const why = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const tail = stderr.trim().split("\n").slice(-2).join(" ");
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(new FleetError("ENGINE_CRASHED", `The transcription engine ${why}${tail ? `: ${tail}` : ""}.`));
      }
    });
    child.on("error", () => undefined); // reported through "exit"
    this.child = child;
    return child;
  }

  private onEvent(event: HostEvent): void {
    if (event.type === "ready") return;
    if (event.type === "confirm-cost") {
      const ask = this.pending.get(event.id)?.confirmCost;
      const child = this.child;
      void (ask ? ask(event.estimate) : Promise.resolve(false)).then(
        (ok) => child && this.post(child, { type: "cost-answer", id: event.id, ok }),
        () => child && this.post(child, { type: "cost-answer", id: event.id, ok: false }),
      );
      return;
    }
    if (event.type === "tracked") {
      this.pending.get(event.id)?.onTracked?.(event.entryId);
      return;
    }
    if (event.type === "status") {
      this.statusWaiters.get(event.id)?.(event.sessions);
      this.statusWaiters.delete(event.id);
      return;
    }
    const p = this.pending.get(event.id);
    if (!p) return;
    if (event.type === "progress") {
      p.onProgress?.(event.snapshot);
    } else if (event.type === "segments") {
      p.onSegments?.(event.segments);
    } else if (event.type === "done") {
      this.pending.delete(event.id);
      p.resolve(event.transcript);
    } else {
      this.pending.delete(event.id);
      p.reject(FleetError.fromJSON(event.error));
    }
  }

  transcribe(
    path: string,
    config: ConfigSource,
    options: {
      signal?: AbortSignal;
      onProgress?: (s: ProgressSnapshot) => void;
      onSegments?: (segments: Segment[]) => void;
      overrides?: TranscribeFileOptions["overrides"];
      /** Recorded in history by the host, which runs it to the end even if this process goes away. */
      track?: { heartbeatMs: number };
      onTracked?: (entryId: string) => void;
      /** Asked before audio goes to a paid API; without it the host does not ask (CLI-like). */
      confirmCost?: (estimate: CostEstimate) => Promise<boolean>;
    } = {},
  ): Promise<Transcript> {
    if (options.signal?.aborted) return Promise.reject(abortError());
    const child = this.start();
    const id = this.nextId++;
    return new Promise<Transcript>((resolve, reject) => {
      const onAbort = () => this.post(child, { type: "cancel", id });
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => options.signal?.removeEventListener("abort", onAbort);
      this.pending.set(id, {
        resolve: (t) => (done(), resolve(t)),
        reject: (e) => (done(), reject(e)),
        onProgress: options.onProgress,
        onSegments: options.onSegments,
        onTracked: options.onTracked,
        confirmCost: options.confirmCost,
      });
      this.post(child, {
        type: "transcribe",
        id,
        path,
        config,
        overrides: options.overrides,
        track: options.track,
        confirmCost: options.confirmCost !== undefined,
      });
    });
  }

  /** The host's loaded sessions and the bytes each holds (the addon's own figures). */
  status(): Promise<SessionMemory[]> {
    const child = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.statusWaiters.set(id, resolve);
      this.post(child, { type: "status", id });
    });
  }

  private post(child: ChildProcess, request: HostRequest): void {
    if (child.connected) child.send(request);
  }

  /**
   * Lets go of the host without stopping it, as happens when Raycast unloads a command: its tracked
   * jobs run to the end and land in history; then it exits. Waiting callers are told so.
   */
  release(): void {
    const child = this.child;
    this.child = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new FleetError("ABORTED", "The job was left running in the background; History and the menu bar show it."));
    }
    if (child?.connected) child.disconnect();
    child?.unref();
  }

  /** Stops the host (and with it any running job). */
  dispose(): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      this.post(child, { type: "shutdown" });
      setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 2000).unref();
    }
  }
}
