/**
 * npm run bench — the length matrix: Whisper Fleet against whisper.cpp's own whisper-cli on files
 * of several lengths cut from all the speech in ../shared, every design in the same run:
 *   whisper-cli -t N                (one process, all threads)
 *   whisper-cli -p N -t 1           (whisper_full_parallel: N equal slices)
 *   whisper-cli -p N -t 1 -nt       (the same, text only: no timestamp tokens — a cheaper job than
 *                                    Fleet's, shown for reference)
 *   Whisper Fleet, default settings (a fresh data folder per run: first-job behaviour)
 *   Whisper Fleet, default settings, one data folder taught by two earlier jobs (the layout it
 *                                    learned for this machine and model: what a user meets later)
 * Greedy decoding throughout; wall time includes model load; peak RSS is the whole process tree.
 * Prints, per length, Fleet / best timestamped whisper-cli, and the worst ratio over all lengths.
 *
 * Flags: --model PATH --lengths 7,9.5,13,16.5,20,60,5,3,2,1 (minutes) --threads N --out FILE.json
 *        (the short whole-minute files last: where -p N wastes nothing, Fleet's weakest case)
 *        --repeat N (each design N times, mirrored order every other round; the table shows means)
 *        --short-rounds N (default 3: the rounds of a length under 10 minutes, whose runs of 4–45 s
 *        move 10–20% with the VM's slower vCPU — one round there measures the VM, not Fleet)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { basename, dirname, join } from "node:path";

import { measure } from "./lib.mjs";

export async function runMatrix({ root, shared, ffmpeg, cli, fleet, args }) {
  const cores = Number(args.threads ?? availableParallelism());
  const lengths = (args.lengths ?? "7,9.5,13,16.5,20,60,5,3,2,1").split(",").map(Number);
  const work = mkdtempSync(join(tmpdir(), "wf-matrix-"));
  process.on("exit", () => rmSync(work, { recursive: true, force: true }));
  const speech = join(shared, "speech");
  const sources = [
    join(speech, "ljspeech", "longform", "LJ001_16k.flac"),
    ...list(join(speech, "ljspeech", "clips"), ".flac"),
    join(speech, "jfk", "jfk.wav"),
    ...list(join(speech, "picovoice"), ".wav"),
    ...list(join(speech, "pocketsphinx", "cards"), ".wav"),
    join(speech, "pocketsphinx", "goforward.wav"),
  ].filter(existsSync);

  // All the speech once, then looped to an hour: every length is cut from this one timeline.
  const once = join(work, "all.wav");
  const inputs = sources.flatMap((s) => ["-i", s]);
  const filter = `${sources.map((_, i) => `[${i}:a]aresample=16000,aformat=channel_layouts=mono[a${i}]`).join(";")};${sources.map((_, i) => `[a${i}]`).join("")}concat=n=${sources.length}:v=0:a=1[out]`;
  ff(ffmpeg, [...inputs, "-filter_complex", filter, "-map", "[out]", "-c:a", "pcm_s16le", "-y", once]);
  const hour = join(work, "hour.wav");
  ff(ffmpeg, ["-stream_loop", "3", "-i", once, "-t", "3600", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-y", hour]);
  // Offsets spread the cuts over different recordings and file boundaries.
  const offsets = [0, 300, 700, 1000, 0, 0, 1500, 2000];

  const fleetRun = async (input, minutes, home = mkdtempSync(join(work, "home-"))) => {
    const out = join(work, `fleet-${minutes}.json`);
    const r = await measure([[process.execPath, [fleet, "transcribe", input, "--engine", "local", "--model", args.model, "--format", "json", "--out", out, "--no-cache", "--quiet"]]], {
      ...process.env,
      WHISPER_FLEET_HOME: home,
    });
    const m = JSON.parse(readFileSync(out, "utf8")).metrics;
    return {
      ...r,
      chunks: m.chunks.length,
      workers: m.workers.initial,
      threads: m.workers.threads,
      finalWorkers: m.workers.final,
      adaptation: m.workers.adaptation,
      firstTextMs: m.firstTextMs,
      firstHeardMs: m.firstHeardMs,
      decision: m.workers.decision,
      windows: m.chunks.reduce((sum, c) => sum + (c.windows ?? 0), 0),
      // Chunks an idle worker took the rest of (README: Finishing together).
      split: m.chunks.filter((c) => c.pieces > 1).length,
      perChunk: m.chunks.map((c) => ({ start: c.start, end: c.end, windows: c.windows, threads: c.threads, workerId: c.workerId, wallMs: c.wallMs, pieces: c.pieces })),
    };
  };
  const repeat = Math.max(1, Number(args.repeat ?? 1));
  // Short lengths get more rounds (see --short-rounds): one slow stretch of a vCPU moves a single
  // 4-second run by 10–20%, and a 7-minute one by 12% (2026-12-06: the same plan on the same
  // layout took 20.5 s on the first job and 22.9 s on the learned one, every chunk slower alike).
  const roundsFor = (minutes) => (minutes < SHORT_MINUTES ? Math.max(repeat, Number(args["short-rounds"] ?? 3)) : repeat);

  // Fleet as a user meets it after a few jobs on this machine: one data folder for the whole run,
  // first taught by two jobs on 6.5 minutes cut from the end of the hour (the first job runs the
  // default layout, the second the layout next to it — a file that long, because a layout is tried
  // only on a file whose plan for it is predicted within 5% of the best; later jobs start at the
  // better one).
  const learnedHome = mkdtempSync(join(work, "learned-"));
  const lesson = join(work, "lesson.wav");
  ff(ffmpeg, ["-ss", "3200", "-t", "390", "-i", hour, "-c:a", "pcm_s16le", "-y", lesson]);
  for (let i = 0; i < 2; i++) {
    process.stderr.write(`teaching Fleet this machine (job ${i + 1}/2)…\n`);
    await fleetRun(lesson, "lesson", learnedHome);
  }

  const rows = [];
  for (const [i, minutes] of lengths.entries()) {
    const seconds = minutes * 60;
    const offset = minutes >= 60 ? 0 : Math.min(offsets[i % offsets.length], Math.max(0, 3600 - seconds));
    const input = join(work, `len-${minutes}.wav`);
    ff(ffmpeg, ["-ss", String(offset), "-t", String(seconds), "-i", hour, "-c:a", "pcm_s16le", "-y", input]);
    const rounds = roundsFor(minutes);
    const row = { minutes, offset, rounds, designs: {} };
    // Each design runs `repeat` times, the order reversed every other round (ABBA): this VM's
    // speed drifts by several percent over minutes, and a mean over mirrored rounds cancels a
    // steady drift that a single pass in fixed order would credit to whichever design ran later.
    const whisper = (extra) => measure([[cli, ["-m", args.model, "-f", input, "-bs", "1", "-np", ...extra]]]);
    const designs = {
      "cli-t": () => whisper(["-t", String(cores)]),
      "cli-p": () => whisper(["-p", String(cores), "-t", "1"]),
      "cli-p-nt": () => whisper(["-p", String(cores), "-t", "1", "-nt"]),
      fleet: () => fleetRun(input, minutes),
      "fleet-learned": () => fleetRun(input, minutes, learnedHome),
    };
    const runs = Object.fromEntries(Object.keys(designs).map((id) => [id, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? Object.keys(designs) : Object.keys(designs).reverse();
      for (const id of order) {
        process.stderr.write(`${minutes} min · ${id}${rounds > 1 ? ` (round ${round + 1}/${rounds})` : ""}…\n`);
        runs[id].push(await designs[id]());
      }
    }
    for (const [id, list] of Object.entries(runs)) {
      row.designs[id] = {
        ...list.at(-1),
        wallMs: list.reduce((sum, r) => sum + r.wallMs, 0) / list.length,
        peakRss: Math.max(...list.map((r) => r.peakRss)),
        wallRuns: list.map((r) => r.wallMs),
      };
    }
    const d = row.designs;
    const best = Math.min(d["cli-t"].wallMs, d["cli-p"].wallMs);
    row.ratio = d.fleet.wallMs / best;
    row.ratioLearned = d["fleet-learned"].wallMs / best;
    row.ratioTextOnly = d.fleet.wallMs / d["cli-p-nt"].wallMs;
    row.rssOverP = (d.fleet.peakRss - d["cli-p"].peakRss) / 2 ** 20;
    // whisper_full_parallel cuts equal slices with no overlap; each runs a window while more than
    // 0.1 s is left (the rule src/core/planning/windowPlan.ts plans by).
    row.windowsP = cores * Math.max(1, Math.ceil((seconds / cores - 0.1) / 30));
    rows.push(row);
    console.log(formatRow(row));
  }

  const machine = `${cpus()[0]?.model ?? "cpu"} · ${cores} threads of ${availableParallelism()} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · ${process.platform}-${process.arch}`;
  const header = `Whisper Fleet length matrix — model ${basename(args.model)}, greedy, ${new Date().toISOString()}\n${machine}`;
  const table = [
    "| length | cli -t | cli -p | cli -p -nt | Fleet | Fleet layout | chunks | windows Fleet / -p | first text | Fleet / best cli | Fleet / -p -nt | RSS vs -p | Fleet, learned | layout | learned / best cli |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map(tableRow),
  ].join("\n");
  const worst = rows.reduce((w, r) => (r.ratio > w.ratio ? r : w), rows[0]);
  const worstLearned = rows.reduce((w, r) => (r.ratioLearned > w.ratioLearned ? r : w), rows[0]);
  console.log(
    `\n${header}\n\n${table}\n\nWorst Fleet / best timestamped whisper-cli: ${worst.ratio.toFixed(3)} (${worst.minutes} min) on a first job; ` +
      `${worstLearned.ratioLearned.toFixed(3)} (${worstLearned.minutes} min) after two jobs taught it the machine; target ≤ 0.95`,
  );
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ header, machine, model: args.model, rows }, null, 2));
  console.log(`JSON: ${args.out}`);
  void root;
}

/** Lengths under this many minutes are short: they run --short-rounds rounds. */
const SHORT_MINUTES = 10;

function list(dir, ext) {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(ext))
        .sort()
        .map((f) => join(dir, f))
    : [];
}

function ff(ffmpeg, a) {
  execFileSync(ffmpeg, ["-hide_banner", "-nostdin", "-v", "error", ...a]);
}

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

function formatRow(r) {
  return `${r.minutes} min: Fleet ${s(r.designs.fleet.wallMs)} (learned ${s(r.designs["fleet-learned"].wallMs)}) · best cli ${s(Math.min(r.designs["cli-t"].wallMs, r.designs["cli-p"].wallMs))} · ratio ${r.ratio.toFixed(3)} (learned ${r.ratioLearned.toFixed(3)})`;
}

function tableRow(r) {
  const d = r.designs;
  return `| ${r.minutes} min${r.rounds > 1 ? ` (${r.rounds} rounds)` : ""} | ${s(d["cli-t"].wallMs)} | ${s(d["cli-p"].wallMs)} | ${s(d["cli-p-nt"].wallMs)} | ${s(d.fleet.wallMs)} | ${d.fleet.workers}×${d.fleet.threads}${d.fleet.finalWorkers !== d.fleet.workers ? ` → ${d.fleet.finalWorkers}` : ""} | ${d.fleet.chunks}${d.fleet.split ? ` (${d.fleet.split} split)` : ""} | ${d.fleet.windows} / ${r.windowsP} | ${d.fleet.firstTextMs ? s(d.fleet.firstTextMs) : "—"}${d.fleet.firstHeardMs ? ` (heard ${s(d.fleet.firstHeardMs)})` : ""} | ${r.ratio.toFixed(3)} | ${r.ratioTextOnly.toFixed(3)} | ${r.rssOverP >= 0 ? "+" : ""}${r.rssOverP.toFixed(0)} MiB | ${s(d["fleet-learned"].wallMs)} | ${d["fleet-learned"].workers}×${d["fleet-learned"].threads} | ${r.ratioLearned.toFixed(3)} |`;
}
