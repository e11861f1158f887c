/** Unpacks the synthetic whisper.cpp models from ../shared/models into .models/ (once, verified). */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";

import { modelsDir, repoRoot, requireShared, sharedDir } from "./paths";

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export default async function setup(): Promise<void> {
  requireShared();
  // The engine host runs as a child process from its bundle, as it does inside Raycast.
  execFileSync(process.execPath, [join(repoRoot, "scripts", "build-ts.mjs")], { cwd: repoRoot, stdio: "ignore" });
  await mkdir(modelsDir, { recursive: true });
  const sums = readFileSync(join(sharedDir, "models", "SHA256SUMS"), "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(/\s+/));
  for (const [digest, name] of sums) {
    const out = join(modelsDir, name);
    if (existsSync(out) && (await sha256(out)) === digest) continue;
    await pipeline(createReadStream(join(sharedDir, "models", `${name}.gz`)), createGunzip(), createWriteStream(`${out}.tmp`));
    if ((await sha256(`${out}.tmp`)) !== digest) throw new Error(`checksum mismatch unpacking ${name}`);
    renameSync(`${out}.tmp`, out);
  }
}
