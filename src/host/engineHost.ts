/**
 * The engine host: a child Node process that owns the native addon and the scheduler for a front
 * end (the Raycast commands). It keeps a FleetSession per configuration so a queue of files loads
 * the model once — at most one idle model stays loaded. A tracked job is the host's own: it
 * records it in history (start, heartbeat, outcome) and, when its parent goes away (Raycast unloads
 * a command when its function returns, or stops one that runs too long), it runs every job to the
 * end before it exits; the menu bar and History show them and can cancel them through history.
 * Without work it exits after WHISPER_FLEET_HOST_IDLE_SECONDS (default 600).
 */
import { createHash } from "node:crypto";

import { loadConfig } from "../core/config";
import { toFleetError } from "../core/errors";
import { FleetSession } from "../core/FleetSession";
import type { CostEstimate } from "../core/cloud/cloudModels";
import { HistoryStore, type HistoryEntry } from "../core/history/HistoryStore";
import { dataPaths } from "../core/paths";
import { progressLine, type ProgressSnapshot } from "../core/scheduling/progress";
import { sendToParent } from "./parentChannel";
import type { HostEvent, HostRequest } from "./protocol";
import { SessionPool } from "./SessionPool";

const jobs = new Map<number, AbortController>();
/** The parent is gone: finish what runs, then exit. */
let orphaned = false;
/** Cost questions waiting for the front end's answer, by job id. */
const costQuestions = new Map<number, (ok: boolean) => void>();

/** Asks the front end before audio goes to a paid API; nobody there to ask means no. */
function askCost(id: number, estimate: CostEstimate): Promise<boolean> {
  if (!process.connected) return Promise.resolve(false);
  return new Promise((resolve) => {
    costQuestions.set(id, resolve);
    send({ type: "confirm-cost", id, estimate });
  });
}
const sources = new Map<string, Record<string, unknown>>();
let sessions: SessionPool;

function send(event: HostEvent): void {
  sendToParent(event);
}

/** History for a tracked job: start now, beat on a timer (and look for a cancel request), finish. */
async function track(request: Extract<HostRequest, { type: "transcribe" }>, controller: AbortController) {
  if (!request.track) return undefined;
  const history = new HistoryStore(dataPaths.history());
  const entry: HistoryEntry = await history.start(request.path, request.overrides ?? {});
  send({ type: "tracked", id: request.id, entryId: entry.id });
  let snapshot: ProgressSnapshot | undefined;
  const timer = setInterval(() => {
    if (history.cancelRequested(entry.id)) controller.abort();
    void history.heartbeat(entry, snapshot ? progressLine(snapshot) : undefined).catch(() => undefined);
  }, request.track.heartbeatMs);
  return {
    progress: (s: ProgressSnapshot) => (snapshot = s),
    finish: async (outcome: Parameters<HistoryStore["finish"]>[1]) => {
      clearInterval(timer);
      await history.finish(entry, outcome).catch(() => undefined);
      await history.clearCancel(entry.id).catch(() => undefined);
    },
  };
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
  const tracked = await track(request, controller).catch(() => undefined);
  let outcome: HostEvent;
  try {
    const transcript = await sessions.acquire(key).transcribeFile(request.path, {
      signal: controller.signal,
      overrides: request.overrides,
      confirmCost: request.confirmCost ? (estimate) => askCost(request.id, estimate) : undefined,
      onProgress: (snapshot) => {
        tracked?.progress(snapshot);
        // At most 4 updates a second cross the process boundary; phase changes always do.
        const now = Date.now();
        if (snapshot.phase === "transcribing" && now - last < 250) return;
        last = now;
        send({ type: "progress", id: request.id, snapshot });
      },
      onSegments: (segments) => send({ type: "segments", id: request.id, segments }),
    });
    await tracked?.finish({ transcript });
    outcome = { type: "done", id: request.id, transcript };
  } catch (error) {
    const e = toFleetError(error);
    await tracked?.finish({ error: e.toJSON(), cancelled: e.code === "ABORTED" });
    outcome = { type: "failed", id: request.id, error: e.toJSON() };
  }
  // The session is released (and older idle models disposed) before the front end hears the
  // outcome, so whatever it asks next — status, the next job — meets the host as the job left it.
  jobs.delete(request.id);
  await sessions.release(key).catch(() => undefined);
  send(outcome);
  if (orphaned && jobs.size === 0) void shutdown();
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
  // The front end went away (Raycast unloaded the command): running jobs finish, then the host exits.
  process.on("disconnect", () => {
    orphaned = true;
    for (const answer of costQuestions.values()) answer(false);
    costQuestions.clear();
    if (jobs.size === 0) void shutdown();
  });
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
    case "cost-answer":
      costQuestions.get(message.id)?.(message.ok);
      costQuestions.delete(message.id);
      break;
    case "status":
      send({ type: "status", id: message.id, sessions: sessions.memory() });
      break;
    case "shutdown":
      void shutdown();
      break;
  }
}
