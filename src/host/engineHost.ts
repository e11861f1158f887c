/**
 * The engine host: a child Node process that owns the native addon and the scheduler for a front
 * end (the Raycast commands). It keeps one FleetSession per configuration so a queue of files loads
 * the model once, and exits when its parent goes away.
 */
import { createHash } from "node:crypto";

import { loadConfig } from "../core/config";
import { toFleetError } from "../core/errors";
import { FleetSession } from "../core/FleetSession";
import type { HostEvent, HostRequest } from "./protocol";

const sessions = new Map<string, FleetSession>();
const jobs = new Map<number, AbortController>();

function send(event: HostEvent): void {
  process.send?.(event);
}

function sessionFor(source: Record<string, unknown>): FleetSession {
  const key = createHash("sha256").update(JSON.stringify(source)).digest("hex");
  let session = sessions.get(key);
  if (!session) {
    session = new FleetSession(loadConfig(process.env as Record<string, string>, source as Record<string, string>));
    sessions.set(key, session);
  }
  return session;
}

async function transcribe(request: Extract<HostRequest, { type: "transcribe" }>): Promise<void> {
  const controller = new AbortController();
  jobs.set(request.id, controller);
  let last = 0;
  try {
    const transcript = await sessionFor(request.config).transcribeFile(request.path, {
      signal: controller.signal,
      overrides: request.overrides,
      onProgress: (snapshot) => {
        // At most 4 updates a second cross the process boundary; phase changes always do.
        const now = Date.now();
        if (snapshot.phase === "transcribing" && now - last < 250) return;
        last = now;
        send({ type: "progress", id: request.id, snapshot });
      },
    });
    send({ type: "done", id: request.id, transcript });
  } catch (error) {
    const e = toFleetError(error);
    send({ type: "failed", id: request.id, error: { code: e.code, message: e.message, hint: e.hint, details: e.details } });
  } finally {
    jobs.delete(request.id);
  }
}

async function shutdown(code = 0): Promise<never> {
  for (const c of jobs.values()) c.abort();
  for (const s of sessions.values()) await s.dispose().catch(() => undefined);
  process.exit(code);
}

process.on("message", (message: HostRequest) => {
  switch (message.type) {
    case "transcribe":
      void transcribe(message);
      break;
    case "cancel":
      jobs.get(message.id)?.abort();
      break;
    case "shutdown":
      void shutdown();
      break;
  }
});
// The front end went away (Raycast unloaded the command): stop work rather than linger.
process.on("disconnect", () => void shutdown());
send({ type: "ready", pid: process.pid });
