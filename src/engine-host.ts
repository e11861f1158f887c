/**
 * The engine host's entry point, listed in the manifest as a command (disabled by default, never
 * needed by hand) so that `ray build` emits it as engine-host.js beside the other commands: the
 * store's own build carries the host, with no step of ours. The other commands fork this file with
 * WHISPER_FLEET_ENGINE_HOST=1 (src/raycast/engine.ts); run from Raycast it only says what it is.
 */
import { startEngineHost } from "./host/engineHost";

if (process.env.WHISPER_FLEET_ENGINE_HOST === "1") startEngineHost();

export default async function Command() {
  // Loaded lazily: as the engine host this file runs under plain Node, where @raycast/api is absent.
  const { showHUD } = await import("@raycast/api");
  await showHUD("Whisper Fleet's engine starts by itself when you transcribe a file");
}
