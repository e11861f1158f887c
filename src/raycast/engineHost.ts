/** The extension's one engine host: where its script is, the environment it runs in, its client. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

import { environment } from "@raycast/api";

import { EngineClient } from "../host/EngineClient";

let client: EngineClient | undefined;

/**
 * The engine host script: engine-host.js beside the commands in what `ray build` emits (the
 * manifest lists it as a command for that reason); in a source checkout, the one `npm run build`
 * bundles into dist/.
 */
export function engineHostScript(): string {
  const extensionRoot = dirname(environment.assetsPath);
  const built = join(extensionRoot, "engine-host.js");
  return existsSync(built) ? built : join(extensionRoot, "dist", "engine-host.js");
}

/** The environment the engine host runs in (and the one the front end resolves ffmpeg with). */
export function hostEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WHISPER_FLEET_HOME: environment.supportPath,
    WHISPER_FLEET_ASSETS: environment.assetsPath,
    // Raycast strips PATH; Homebrew's folders are probed by the ffmpeg resolver anyway.
    PATH: [process.env.PATH, "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin"].filter(Boolean).join(":"),
  };
}

export function engineClient(): EngineClient {
  return (client ??= new EngineClient({ hostPath: engineHostScript(), env: hostEnv() }));
}
