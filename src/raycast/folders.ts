/** The extension's data in Raycast's support folder: history, models, fetched runtime components. */
import { join } from "node:path";

import { environment } from "@raycast/api";

import { HistoryStore } from "../core/history/HistoryStore";

export function historyStore(): HistoryStore {
  return new HistoryStore(join(environment.supportPath, "history"));
}

export function modelsDir(): string {
  return join(environment.supportPath, "models");
}

/** Where ffmpeg and the engine go on first use (the host finds them there through WHISPER_FLEET_HOME). */
export function runtimeDir(): string {
  return join(environment.supportPath, "runtime");
}
