/** The extension's one engine host client, living in Raycast's data folders. */
import { join } from "node:path";

import { environment } from "@raycast/api";

import { HistoryStore } from "../core/history/HistoryStore";
import { EngineClient } from "../host/EngineClient";

let client: EngineClient | undefined;

export function engineClient(): EngineClient {
  return (client ??= new EngineClient({
    hostPath: join(environment.assetsPath, "engine-host", "engine-host.js"),
    env: {
      ...process.env,
      WHISPER_FLEET_HOME: environment.supportPath,
      WHISPER_FLEET_ASSETS: environment.assetsPath,
      // Raycast strips PATH; Homebrew's folders are probed by the ffmpeg resolver anyway.
      PATH: [process.env.PATH, "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin"].filter(Boolean).join(":"),
    },
  }));
}

export function historyStore(): HistoryStore {
  return new HistoryStore(join(environment.supportPath, "history"));
}

export function modelsDir(): string {
  return join(environment.supportPath, "models");
}
