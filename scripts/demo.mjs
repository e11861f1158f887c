#!/usr/bin/env node
// The main job with the embedded defaults: transcribe the bundled sample (samples/jfk.mp3).
// Model: WHISPER_FLEET_MODEL, else the first installed one; on a machine with no model but with
// the project's ../shared fixtures, the synthetic base.en model is unpacked and used (its text is
// scripted: it proves the machinery, not recognition); otherwise it says how to download one.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = ["transcribe", join(root, "samples", "jfk.mp3"), ...process.argv.slice(2)];

async function syntheticModel() {
  const shared = process.env.WHISPER_FLEET_SHARED ?? resolve(root, "..", "shared");
  const gz = join(shared, "models", "synthetic-base.en.bin.gz");
  if (!existsSync(gz)) return undefined;
  const out = join(root, ".models", "synthetic-base.en.bin");
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    await pipeline(createReadStream(gz), createGunzip(), createWriteStream(`${out}.tmp`));
    const want = readFileSync(join(shared, "models", "SHA256SUMS"), "utf8").split("\n").find((l) => l.endsWith(" synthetic-base.en.bin"))?.split(/\s+/)[0];
    const got = createHash("sha256").update(readFileSync(`${out}.tmp`)).digest("hex");
    if (want && got !== want) throw new Error(`checksum mismatch unpacking ${gz}`);
    renameSync(`${out}.tmp`, out);
  }
  return out;
}

// Where the CLI looks for installed models (see src/core/paths.ts).
const home = process.env.WHISPER_FLEET_HOME ?? (process.platform === "darwin" ? join(homedir(), "Library", "Application Support", "whisper-fleet") : join(process.env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "whisper-fleet"));
const modelsDir = process.env.WHISPER_FLEET_MODELS_DIR ?? join(home, "models");
const installed = existsSync(modelsDir) ? readdirSync(modelsDir).filter((f) => f.endsWith(".bin")) : [];
if (!process.env.WHISPER_FLEET_MODEL && !args.includes("--model") && installed.length === 0) {
  const synthetic = await syntheticModel();
  if (synthetic) {
    console.error(`demo: using the synthetic test model ${synthetic} (scripted text; download a real one with \`npm run cli -- models download base.en\`)`);
    args.push("--model", synthetic);
  }
}
const r = spawnSync(process.execPath, [join(root, "bin", "whisper-fleet.js"), ...args], { stdio: "inherit" });
process.exit(r.status ?? 1);
