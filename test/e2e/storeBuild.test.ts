/**
 * The store build is the build: the working tree as a clean checkout would hold it (tracked and
 * not-ignored files only), then exactly `npm ci` and `ray build -e dist -o OUT`, as Raycast's store
 * CI runs them. OUT's own Transcribe Selected Files command then runs under plain Node (with the
 * recording @raycast/api stand-in) from an empty supportPath: it must fetch ffmpeg and the engine
 * from a loopback registry at npm's tarball URLs, start OUT's engine host, and copy a transcript.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startComponentRegistry, type LoopbackRegistry } from "../support/registry";
import { jfkWav, model, repoRoot } from "../support/paths";

const work = mkdtempSync(join(tmpdir(), "wf-store-"));
const clone = join(work, "checkout");
const out = join(work, "extension");
let registry: LoopbackRegistry;
let pinsFile: string;
const linux = process.platform === "linux" && process.arch === "x64";

/** Tracked and untracked-but-not-ignored files: what a commit of this tree would hold. */
function copyCheckout(): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const from = join(repoRoot, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    copyFileSync(from, join(clone, file));
  }
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

function runNode(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { ...options, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("close", (status) => resolve({ status, output }));
  });
}

beforeAll(async () => {
  if (!linux) return;
  copyCheckout();
  run("npm", ["ci", "--no-audit", "--no-fund"], clone);
  run(join(clone, "node_modules", ".bin", "ray"), ["build", "-e", "dist", "-o", out], clone);
  // The registry: ffmpeg as published, the engine as `npm run prebuild` packs it from this build.
  ({ registry, pinsFile } = await startComponentRegistry(work));
}, 900_000);
afterAll(() => registry?.stop());

describe.skipIf(!linux)("a store-style build (npm ci + ray build) on a machine with nothing installed", () => {
  it("emits the commands and the engine host, and ships no binary and no build output of ours", () => {
    for (const f of ["transcribe-selected-files.js", "transcribe-file.js", "engine-host.js", "package.json", join("assets", "icon.png")])
      expect(existsSync(join(out, f))).toBe(true);
    expect(existsSync(join(out, "assets", "native"))).toBe(false);
    expect(existsSync(join(out, "node_modules"))).toBe(false);
  });

  it("fetches ffmpeg and the engine into an empty supportPath, then transcribes and copies the text", async () => {
    // @raycast/api's stand-in, compiled for plain Node; react from this checkout.
    const stub = join(work, "raycast-api.cjs");
    await build({
      entryPoints: [join(repoRoot, "test", "support", "raycast", "api.tsx")],
      outfile: stub,
      bundle: true,
      platform: "node",
      format: "cjs",
      external: ["react"],
      logLevel: "error",
    });
    const runner = join(work, "run-command.cjs");
    writeFileSync(
      runner,
      `const Module = require("node:module");
const fs = require("node:fs");
const [stub, reactFrom, command, resultFile] = process.argv.slice(2);
const mapped = { "@raycast/api": stub };
for (const name of ["react", "react/jsx-runtime"]) mapped[name] = require.resolve(name, { paths: [reactFrom] });
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return mapped[request] ?? resolve.call(this, request, ...rest);
};
const api = require(stub);
api.state.finderItems = JSON.parse(process.env.TEST_FINDER_ITEMS).map((path) => ({ path }));
api.state.preferences = JSON.parse(process.env.TEST_PREFERENCES);
require(command).default().then(() => {
  fs.writeFileSync(resultFile, JSON.stringify({ copied: api.calls.copied, hud: api.calls.hud, toasts: api.calls.toasts.map((t) => ({ style: t.style, title: t.title, message: t.message, shown: t.shown })) }));
  process.exit(0);
}, (error) => { console.error(error); process.exit(1); });
`,
    );
    const support = mkdtempSync(join(work, "support-"));
    const result = join(work, "result.json");
    const systemFfmpeg = ["/opt/homebrew/bin/ffmpeg", "/usr/local/bin/ffmpeg", "/usr/bin/ffmpeg", "/bin/ffmpeg"].some(existsSync);
    // Asynchronously: the loopback registry answers from this process's event loop.
    const r = await runNode([runner, stub, repoRoot, join(out, "transcribe-selected-files.js"), result], {
      cwd: work,
      env: {
        HOME: process.env.HOME,
        PATH: "/usr/bin:/bin",
        TMPDIR: work,
        RAYCAST_ASSETS_PATH: join(out, "assets"),
        RAYCAST_SUPPORT_PATH: support,
        WHISPER_FLEET_REGISTRY: registry.url,
        // The engine pin of this build; a release writes it into pins.ts instead.
        WHISPER_FLEET_RUNTIME_PINS: pinsFile,
        TEST_FINDER_ITEMS: JSON.stringify([jfkWav]),
        TEST_PREFERENCES: JSON.stringify({
          engine: "local",
          model: model("tiny.en"),
          language: "auto",
          outputFormat: "txt",
          onFinish: "copy",
          autoAdjust: true,
        }),
      },
    });
    expect(r.status, r.output).toBe(0);
    const calls = JSON.parse(readFileSync(result, "utf8")) as { copied: string[]; hud: string[]; toasts: { title: string; shown: { title?: string }[] }[] };
    expect(calls.copied).toHaveLength(1);
    expect(calls.copied[0]).toMatch(/\w+ \w+ \w+/);
    expect(calls.hud).toEqual(["Copied transcript of jfk.wav"]);
    // One toast: it said what was downloaded (and how much), then followed the job.
    expect(calls.toasts).toHaveLength(1);
    const titles = calls.toasts[0].shown.map((s) => s.title);
    expect(titles).toContain(systemFfmpeg ? "Downloading the transcription engine" : "Downloading ffmpeg and the transcription engine");
    expect(
      titles.indexOf(
        "Transcribing",
        titles.findIndex((t) => t?.startsWith("Downloading")),
      ),
    ).toBeGreaterThan(0);
    expect(registry.requests.some((p) => p.includes("@whisper-fleet/engine-linux-x64"))).toBe(true);
    if (!systemFfmpeg) expect(registry.requests.some((p) => p.includes("@ffmpeg-installer/linux-x64"))).toBe(true);
    const runtime = readdirSync(join(support, "runtime"));
    expect(runtime).toEqual(expect.arrayContaining(systemFfmpeg ? ["engine"] : ["engine", "ffmpeg"]));
    // History was written by the same job runner every command uses.
    const history = readdirSync(join(support, "history"));
    expect(history.length).toBe(1);
  }, 600_000);
});
