#!/usr/bin/env node
/**
 * npm run bench — by default the length matrix (bench/matrix.mjs): Whisper Fleet against
 * whisper-cli on several lengths cut from all the speech in ../shared.
 *
 * npm run bench -- --quick — one run, one file, one machine, every design side by side:
 *   1. whisper-cli, sequential, all threads              (whisper.cpp's own CLI, same pinned source)
 *   2. whisper-cli -p N                                  (whisper_full_parallel: equal slices, no overlap)
 *   3. N whisper-cli processes on N chunks               (the plan's original design: a model per worker)
 *   4. Whisper Fleet, auto-sized workers                 (one model, N states, planned chunks)
 *   5. Whisper Fleet, 1 worker
 * All greedy decoding (whisper-cli -bs 1; Whisper Fleet's default). Wall time includes model load.
 * Peak RSS is the whole process tree, sampled every 100 ms. Prints a table and writes JSON.
 *
 * Flags: --model PATH (default: synthetic base.en) --file PATH (quick; default: 20-min LJ001)
 *        --seconds N (quick: trim the file) --lengths LIST (matrix, minutes) --out FILE.json
 *        --only a,b (quick: run ids) --threads N --repeat N (matrix: rounds per length)
 *        --short-rounds N (matrix: rounds of lengths under 10 minutes, default 3)
 */
import { execFileSync } from "node:child_process";

import { measure } from "./lib.mjs";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.WHISPER_FLEET_SHARED ?? resolve(root, "..", "shared");
const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: join(root, ".models", "synthetic-base.en.bin") },
    file: { type: "string", default: join(shared, "speech", "ljspeech", "longform", "LJ001_16k.flac") },
    seconds: { type: "string" },
    out: { type: "string", default: join(root, "bench-results", "bench.json") },
    only: { type: "string" },
    threads: { type: "string" },
    quick: { type: "boolean" },
    lengths: { type: "string" },
    repeat: { type: "string" },
    "short-rounds": { type: "string" },
  },
});
const cores = Number(args.threads ?? availableParallelism());
const cli = join(root, "build", "whisper-tools", "bin", "whisper-cli");
// What a user runs: the command's launcher (it turns on Node's compile cache), then the bundle.
const fleet = join(root, "bin", "whisper-fleet.js");
const ffmpeg = (() => {
  try {
    return JSON.parse(execFileSync(process.execPath, ["-e", "process.stdout.write(JSON.stringify(require('@ffmpeg-installer/ffmpeg').path))"], { cwd: root }).toString());
  } catch {
    return "ffmpeg";
  }
})();

for (const [what, path, fix] of [
  ["whisper-cli", cli, "npm run build:whisper-tools"],
  ["Whisper Fleet CLI", join(root, "dist", "cli.js"), "npm run build"],
  ["model", args.model, "npm test once (it unpacks ../shared/models into .models/) or pass --model"],
  ["audio file", args.file, "pass --file"],
]) {
  if (!existsSync(path)) {
    console.error(`${what} not found at ${path}: ${fix}`);
    process.exit(2);
  }
}

if (!args.quick) {
  const { runMatrix } = await import("./matrix.mjs");
  if (args.out.endsWith("bench.json")) args.out = join(dirname(args.out), "matrix.json");
  await runMatrix({ root, shared, ffmpeg, cli, fleet, args });
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "wf-bench-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** 16 kHz mono WAV of the input (optionally trimmed): every contender reads the same samples. */
function wav(input, start, duration, name) {
  const out = join(work, name);
  execFileSync(ffmpeg, ["-hide_banner", "-nostdin", "-v", "error", "-ss", String(start), ...(duration ? ["-t", String(duration)] : []), "-i", input, "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-y", out]);
  return out;
}
const input = wav(args.file, 0, args.seconds ? Number(args.seconds) : undefined, "input.wav");
function probeDuration(path) {
  const r = spawnSyncText(ffmpeg, ["-hide_banner", "-i", path]);
  const m = /Duration: (\d+):(\d+):([\d.]+)/.exec(r);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : NaN;
}
function spawnSyncText(cmd, a) {
  try {
    execFileSync(cmd, a, { stdio: ["ignore", "ignore", "pipe"] });
    return "";
  } catch (e) {
    return String(e.stderr ?? "");
  }
}
const audioSeconds = probeDuration(input);

const results = [];
const only = args.only ? new Set(args.only.split(",")) : undefined;
async function run(id, label, fn) {
  if (only && !only.has(id)) return;
  process.stderr.write(`running ${label}…\n`);
  const r = await fn();
  results.push({ id, label, ...r, realtime: audioSeconds / (r.wallMs / 1000), chunksPerMinute: r.chunks ? (r.chunks / r.wallMs) * 60000 : undefined });
}

const fleetRun = async (extra) => {
  const out = join(work, `fleet-${results.length}.json`);
  const r = await measure([[process.execPath, [fleet, "transcribe", input, "--engine", "local", "--model", args.model, "--format", "json", "--out", out, "--no-cache", "--quiet", ...extra]]]);
  const t = JSON.parse(readFileSync(out, "utf8"));
  const m = t.metrics;
  return { ...r, chunks: m.chunks.length, workers: m.workers.initial, decision: m.workers.decision, overheadFraction: (m.mediaDecodeMs + m.planMs + m.stitchMs) / m.wallMs, segments: t.segments.length };
};

// Whisper Fleet first: its sizing decides N for the baselines that take a worker count.
await run("fleet-auto", "Whisper Fleet, auto-sized", () => fleetRun([]));
const n = results.find((r) => r.id === "fleet-auto")?.workers ?? Math.min(cores, 2);
const perProc = Math.max(1, Math.floor(cores / n));
await run("cli-seq", `whisper-cli sequential -t ${cores}`, async () => ({ ...(await measure([[cli, ["-m", args.model, "-f", input, "-t", String(cores), "-bs", "1", "-np", "-nt"]]])), workers: 1 }));
await run("cli-p", `whisper-cli -p ${n} -t ${perProc}`, async () => ({ ...(await measure([[cli, ["-m", args.model, "-f", input, "-p", String(n), "-t", String(perProc), "-bs", "1", "-np", "-nt"]]])), workers: n }));
await run("cli-procs", `${n} whisper-cli processes on ${n} chunks`, async () => {
  const t0 = performance.now();
  const step = audioSeconds / n;
  const parts = Array.from({ length: n }, (_, i) => wav(input, i * step, step, `part-${i}.wav`));
  const splitMs = performance.now() - t0;
  const r = await measure(parts.map((p) => [cli, ["-m", args.model, "-f", p, "-t", String(perProc), "-bs", "1", "-np", "-nt"]]));
  return { wallMs: r.wallMs + splitMs, peakRss: r.peakRss, workers: n, chunks: n };
});
await run("fleet-1", "Whisper Fleet, 1 worker", () => fleetRun(["--workers", "1"]));

const base = results.find((r) => r.id === "cli-seq");
for (const r of results) r.speedupVsSequential = base ? base.wallMs / r.wallMs : undefined;

const machine = `${cpus()[0]?.model ?? "cpu"} · ${cores} threads used of ${availableParallelism()} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · ${process.platform}-${process.arch}`;
const header = `Whisper Fleet benchmark — ${basename(args.file)}${args.seconds ? ` (first ${args.seconds} s)` : ""}, ${audioSeconds.toFixed(1)} s audio, model ${basename(args.model)}, greedy\n${machine} · ${new Date().toISOString()}`;
const rows = results.map((r) => [
  r.label,
  `${(r.wallMs / 1000).toFixed(1)} s`,
  `${r.realtime.toFixed(1)}x`,
  `${(r.peakRss / 2 ** 20).toFixed(0)} MiB`,
  r.chunksPerMinute ? r.chunksPerMinute.toFixed(1) : "—",
  r.speedupVsSequential ? `${r.speedupVsSequential.toFixed(2)}x` : "—",
]);
const cols = ["design", "wall", "realtime", "peak RSS", "chunks/min", "vs sequential"];
const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(`${header}\n\n${line(cols)}\n| ${widths.map((w) => "-".repeat(w)).join(" | ")} |\n${rows.map(line).join("\n")}`);
const auto = results.find((r) => r.id === "fleet-auto");
if (auto) console.log(`\nWhisper Fleet sizing: ${auto.decision}\nDecode + plan + stitch: ${(auto.overheadFraction * 100).toFixed(1)}% of Whisper Fleet's wall time (target < 5%)`);
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify({ header, machine, audioSeconds, model: args.model, file: args.file, results }, null, 2));
console.log(`\nJSON: ${args.out}`);
