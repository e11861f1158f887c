/**
 * The engine host: a child Node process that owns the native addon and the scheduler for a front
 * end (the Raycast commands). It keeps a FleetSession per configuration so a queue of files loads
 * the model once — at most one idle model stays loaded — and exits when its parent goes away or
 * after WHISPER_FLEET_HOST_IDLE_SECONDS (default 600) without work.
 */
import { createHash } from "node:crypto";

import { loadConfig } from "../core/config";
import { toFleetError } from "../core/errors";
import { FleetSession } from "../core/FleetSession";
import type { HostEvent, HostRequest } from "./protocol";
import { SessionPool } from "./SessionPool";

const jobs = new Map<number, AbortController>();
const sources = new Map<string, Record<string, unknown>>();
let sessions: SessionPool;

function send(event: HostEvent): void {
  process.send?.(event);
}

function keyFor(source: Record<string, unknown>): string {
  const key = createHash("sha256").update(JSON.stringify(source)).digest("hex");
  sources.set(key, source);
  return key;
}

async function transcribe(request: Extract<HostRequest, { type: "transcribe" }>): Promise<void> {
  const controller = new AbortController();
  jobs.set(request.id, controller);
  let last = 0;
  const key = keyFor(request.config);
  try {
    const transcript = await sessions.acquire(key).transcribeFile(request.path, {
      signal: controller.signal,
      overrides: request.overrides,
      onProgress: (snapshot) => {
        // At most 4 updates a second cross the process boundary; phase changes always do.
        const now = Date.now();
        if (snapshot.phase === "transcribing" && now - last < 250) return;
        last = now;
        send({ type: "progress", id: request.id, snapshot });
      },
      onSegments: (segments) => send({ type: "segments", id: request.id, segments }),
    });
    send({ type: "done", id: request.id, transcript });
  } catch (error) {
    const e = toFleetError(error);
    send({ type: "failed", id: request.id, error: e.toJSON() });
  } finally {
    jobs.delete(request.id);
    await sessions.release(key);
  }
}

async function shutdown(code = 0): Promise<never> {
  for (const c of jobs.values()) c.abort();
  await sessions.dispose();
  process.exit(code);
}

/** Runs this process as the engine host: answers its parent over IPC until told to stop or left idle. */
export function startEngineHost(): void {
  const idleSeconds = Number(process.env.WHISPER_FLEET_HOST_IDLE_SECONDS ?? 600);
  sessions = new SessionPool((key) => new FleetSession(loadConfig(process.env as Record<string, string>, sources.get(key) as Record<string, string>)), {
    maxIdle: 1,
    idleExitMs: Number.isFinite(idleSeconds) && idleSeconds > 0 ? idleSeconds * 1000 : undefined,
    onIdleExit: () => void shutdown(),
  });
  process.on("message", onMessage);
  // The front end went away (Raycast unloaded the command): stop work rather than linger.
  process.on("disconnect", () => void shutdown());
  send({ type: "ready", pid: process.pid });
}

function onMessage(message: HostRequest): void {
  switch (message.type) {
    case "transcribe":
      void transcribe(message);
      break;
    case "cancel":
      jobs.get(message.id)?.abort();
      break;
    case "status":
      send({ type: "status", id: message.id, sessions: sessions.memory() });
      break;
    case "shutdown":
      void shutdown();
      break;
  }
}
