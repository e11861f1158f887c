/**
 * whisper.cpp's own whisper-server (built from the pinned source by `npm run build:whisper-tools`)
 * as a local OpenAI-compatible endpoint on 127.0.0.1, serving a synthetic model.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

import { repoRoot } from "./paths";

export const whisperServerBin = join(repoRoot, "build", "whisper-tools", "bin", "whisper-server");
export const whisperCliBin = join(repoRoot, "build", "whisper-tools", "bin", "whisper-cli");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string; // base URL for the OpenAI SDK, ending in /v1
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startWhisperServer(modelPath: string, threads = 1): Promise<RunningServer> {
  if (!existsSync(whisperServerBin)) throw new Error(`whisper-server is not built: run \`npm run build:whisper-tools\` (looked for ${whisperServerBin})`);
  const port = await freePort();
  const child = spawn(
    whisperServerBin,
    ["-m", modelPath, "--host", "127.0.0.1", "--port", String(port), "-t", String(threads), "--inference-path", "/v1/audio/transcriptions"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`whisper-server exited early: ${log}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      if (r.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`whisper-server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}
