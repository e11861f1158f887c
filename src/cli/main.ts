/**
 * whisper-fleet: the command-line front end over the same core as the Raycast commands.
 *
 * Exit codes: 0 done · 1 failed · 2 usage or configuration error · 3 done with gaps (some chunks
 * failed; the transcript names them) · 130 cancelled (Ctrl-C; finished chunks stay cached).
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";

import { LocalWhisperEngine } from "../core/engines/LocalWhisperEngine";
import type { CostEstimate } from "../core/cloud/cloudModels";
import { loadConfig, type ConfigSource, type FleetConfig } from "../core/config";
import { FleetError, toFleetError } from "../core/errors";
import { FleetSession } from "../core/FleetSession";
import { downloadModel, verifyModel } from "../core/models/downloader";
import { catalogModel, MODEL_CATALOG, modelUrl } from "../core/models/catalog";
import { listInstalled } from "../core/models/modelStore";
import { formatTranscript, isOutputFormat, OUTPUT_FORMATS } from "../core/output/formats";
import type { Transcript } from "../core/types";
import { createProgressDisplay } from "./progressDisplay";
import { ParagraphStream } from "./textStream";

export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3, cancelled: 130 } as const;

const USAGE = `Usage:
  whisper-fleet transcribe <files...> [options]
  whisper-fleet models list | download <name> | verify [name]
  whisper-fleet info

Transcribe options:
  --engine local|cloud|auto   engine (default auto: local, else the cloud)
  --model NAME|PATH           model name (base.en, large-v3-turbo...) or ggml file
  --language CODE             auto (default), en, ko, ...
  --translate                 translate to English
  --prompt TEXT               glossary / initial prompt
  --workers N                 fixed worker count (default: sized from memory and cores)
  --chunk SECONDS             chunk length (default 300 local, 600 cloud)
  --overlap SECONDS           overlap between chunks (default 5)
  --format txt|srt|vtt|json|md
  --timestamps                timestamps in txt output
  --out PATH                  output file (one input) or folder (several)
  --no-cache                  do not reuse or store finished chunks
  --ffmpeg PATH               ffmpeg to use
  --yes                       do not ask before sending over 10 minutes to the OpenAI API
  --quiet                     no progress output

Exit codes: 0 ok, 1 failed, 2 usage, 3 finished with gaps, 130 cancelled.`;

interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** Asks the person at the terminal; absent when nobody can answer (pipes, tests). */
  ask?: (question: string) => Promise<string>;
}

async function askOnTerminal(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

function loadDotEnv(env: NodeJS.ProcessEnv): ConfigSource {
  const file = resolve(".env");
  if (!existsSync(file)) return {};
  const before = { ...env };
  try {
    process.loadEnvFile(file);
  } catch {
    return {};
  }
  const added: ConfigSource = {};
  for (const [k, v] of Object.entries(process.env)) if (before[k] === undefined) added[k] = v;
  return added;
}

export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env, ask: process.stdin.isTTY ? askOnTerminal : undefined },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "transcribe":
        return await transcribeCommand(rest, io);
      case "models":
        return await modelsCommand(rest, io);
      case "info":
        io.stdout.write(`${JSON.stringify(LocalWhisperEngine.systemInfo(), null, 2)}\n`);
        return EXIT.ok;
      case undefined:
      case "-h":
      case "--help":
      case "help":
        io.stdout.write(`${USAGE}\n`);
        return command ? EXIT.ok : EXIT.usage;
      default:
        io.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
        return EXIT.usage;
    }
  } catch (error) {
    const e = toFleetError(error);
    io.stderr.write(`error ${e.code}: ${e.message}\n${e.hint ? `${e.hint}\n` : ""}`);
    if (e.code === "ABORTED") return EXIT.cancelled;
    return e.code === "CONFIG_INVALID" || e.code === "INVALID_ARGUMENT" ? EXIT.usage : EXIT.failed;
  }
}

/** node:util's parseArgs errors (an unknown or malformed option) as usage errors. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new FleetError("INVALID_ARGUMENT", (error as Error).message.split(". ")[0], { hint: "whisper-fleet --help lists the commands and options." });
  }
}

async function transcribeCommand(args: string[], io: Io): Promise<number> {
  if (args.some((a) => a === "--help" || a === "-h")) {
    io.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const { values, positionals } = parsed(() =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        engine: { type: "string" },
        model: { type: "string" },
        language: { type: "string" },
        translate: { type: "boolean" },
        prompt: { type: "string" },
        workers: { type: "string" },
        chunk: { type: "string" },
        overlap: { type: "string" },
        format: { type: "string" },
        timestamps: { type: "boolean" },
        out: { type: "string" },
        "no-cache": { type: "boolean" },
        ffmpeg: { type: "string" },
        quiet: { type: "boolean" },
        yes: { type: "boolean" },
      },
    }),
  );
  if (positionals.length === 0) throw new FleetError("INVALID_ARGUMENT", "No input file given.", { hint: "Usage: whisper-fleet transcribe <files...>" });
  if (values.format && !isOutputFormat(values.format))
    throw new FleetError("INVALID_ARGUMENT", `--format must be one of ${OUTPUT_FORMATS.join(", ")}, not "${values.format}".`);
  const flags: ConfigSource = {
    WHISPER_FLEET_ENGINE: values.engine,
    WHISPER_FLEET_MODEL: values.model,
    WHISPER_FLEET_LANGUAGE: values.language,
    WHISPER_FLEET_TRANSLATE: values.translate,
    WHISPER_FLEET_PROMPT: values.prompt,
    WHISPER_FLEET_WORKERS: values.workers,
    CHUNK_SECONDS: values.chunk,
    CHUNK_OVERLAP: values.overlap,
    WHISPER_FLEET_FORMAT: values.format,
    WHISPER_FLEET_TIMESTAMPS: values.timestamps,
    WHISPER_FLEET_CACHE: values["no-cache"] ? false : undefined,
    FFMPEG_PATH_OVERRIDE: values.ffmpeg,
  };
  const config = loadConfig(loadDotEnv(io.env), io.env as ConfigSource, flags);
  const session = new FleetSession(config);
  const controller = new AbortController();
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted > 1) process.exit(EXIT.cancelled);
    io.stderr.write("\nCancelling… (finished chunks are kept and will be reused)\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  let exit: number = EXIT.ok;
  const targets = outputPaths(positionals, values.out, config.format);
  try {
    for (const [n, input] of positionals.entries()) {
      const job = { session, input, target: targets[n], config, quiet: values.quiet === true, yes: values.yes === true, signal: controller.signal };
      exit = Math.max(exit, await transcribeOne(job, io));
    }
  } finally {
    process.off("SIGINT", onSigint);
    await session.dispose();
  }
  return exit;
}

/** One input: transcribe, write where asked, report; returns its exit code (ABORTED is thrown). */
async function transcribeOne(
  job: { session: FleetSession; input: string; target?: string; config: FleetConfig; quiet: boolean; yes: boolean; signal: AbortSignal },
  io: Io,
): Promise<number> {
  const { input, target, config } = job;
  const display = createProgressDisplay(io.stderr, job.quiet);
  // Plain text to standard output is written while the job runs, paragraph by paragraph.
  const stream = !target && config.format === "txt" && !config.timestamps ? new ParagraphStream((text) => io.stdout.write(text)) : undefined;
  try {
    const transcript = await job.session.transcribeFile(resolve(input), {
      signal: job.signal,
      onProgress: (s) => display.update(s),
      onSegments: stream && ((segments) => stream.add(segments)),
      confirmCost: job.yes ? undefined : (estimate) => confirmCost(estimate, io),
    });
    display.stop();
    if (target) {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, formatTranscript(transcript, config.format, { timestamps: config.timestamps }));
    } else if (stream) {
      stream.finish(transcript);
    } else {
      io.stdout.write(formatTranscript(transcript, config.format, { timestamps: config.timestamps }));
    }
    if (!job.quiet) reportDone(transcript, input, target, io);
    for (const g of transcript.gaps) io.stderr.write(`gap ${g.start.toFixed(1)}–${g.end.toFixed(1)} s: ${g.code} ${g.reason}\n`);
    return transcript.gaps.length ? EXIT.partial : EXIT.ok;
  } catch (error) {
    display.stop();
    const e = toFleetError(error);
    if (e.code === "ABORTED") throw e;
    io.stderr.write(`${basename(input)}: error ${e.code}: ${e.message}\n${e.hint ? `${e.hint}\n` : ""}`);
    return EXIT.failed;
  }
}

function reportDone(transcript: Transcript, input: string, target: string | undefined, io: Io): void {
  const m = transcript.metrics!;
  io.stderr.write(
    `${basename(input)}: ${transcript.segments.length} segments, ${m.audioSeconds.toFixed(1)} s of audio in ${(m.wallMs / 1000).toFixed(1)} s (${m.realtimeFactor.toFixed(1)}x realtime) · ${transcript.engine} ${transcript.model} · ${m.workers.decision}${target ? ` → ${target}` : ""}\n`,
  );
  for (const f of transcript.fallbacks) io.stderr.write(`fallback: ${f.from} → ${f.to} (${f.reason})\n`);
  for (const w of transcript.warnings ?? []) io.stderr.write(`warning: ${w}\n`);
}

/** The price notice before a long upload to api.openai.com: asked at a terminal, printed elsewhere. */
async function confirmCost(e: CostEstimate, io: Io): Promise<boolean> {
  const rate = e.usd / Math.max(e.minutes, 1e-9);
  io.stderr.write(
    `This sends ${e.minutes.toFixed(0)} minutes of audio to the OpenAI API (${e.model}): about $${e.usd.toFixed(2)} at $${rate.toFixed(3)}/min (list prices of ${e.pricesAsOf}). --yes skips this notice.\n`,
  );
  if (!io.ask) return true;
  return /^y(es)?$/i.test((await io.ask("Continue? [y/N] ")).trim());
}

function outputPath(input: string, out: string | undefined, inputs: number, format: string): string | undefined {
  if (!out) return inputs > 1 ? join(dirname(resolve(input)), `${basename(input, extname(input))}.${format}`) : undefined;
  if (inputs > 1) return join(resolve(out), `${basename(input, extname(input))}.${format}`);
  return resolve(out);
}

/**
 * One output per input, never two the same: a/x.wav and b/x.mp3 into one folder become x.vtt and
 * x.mp3.vtt (then x-2.vtt, x-3.vtt… if names still meet), so no transcript overwrites another.
 */
export function outputPaths(inputs: string[], out: string | undefined, format: string): (string | undefined)[] {
  const taken = new Set<string>();
  return inputs.map((input) => {
    const first = outputPath(input, out, inputs.length, format);
    if (first === undefined) return undefined;
    const candidates = [first, join(dirname(first), `${basename(input)}.${format}`)];
    for (let k = 2; candidates.length < inputs.length + 2; k++) candidates.push(join(dirname(first), `${basename(input, extname(input))}-${k}.${format}`));
    const chosen = candidates.find((c) => !taken.has(c))!;
    taken.add(chosen);
    return chosen;
  });
}

async function modelsCommand(args: string[], io: Io): Promise<number> {
  const [sub, name] = args;
  const config = loadConfig(loadDotEnv(io.env), io.env as ConfigSource);
  const installed = listInstalled(config.modelsDir);
  switch (sub) {
    case "list":
    case undefined: {
      io.stdout.write(`Models in ${config.modelsDir}\n`);
      for (const m of MODEL_CATALOG) {
        const have = installed.find((i) => i.path.endsWith(m.file));
        io.stdout.write(
          `${have ? "✓" : " "} ${m.name.padEnd(22)} ${String(m.diskMB).padStart(5)} MB disk  ~${String(m.memoryMB).padStart(5)} MB RAM  ${m.multilingual ? "multilingual" : "English    "}  ${m.note}\n`,
        );
      }
      for (const i of installed.filter((i) => !MODEL_CATALOG.some((m) => i.path.endsWith(m.file))))
        io.stdout.write(`✓ ${i.name.padEnd(22)} ${String(Math.round(i.bytes / 1e6)).padStart(5)} MB (imported)\n`);
      return EXIT.ok;
    }
    case "download": {
      const entry = name ? catalogModel(name) : undefined;
      if (!entry)
        throw new FleetError("INVALID_ARGUMENT", `Unknown model "${name ?? ""}".`, { hint: `Choose one of: ${MODEL_CATALOG.map((m) => m.name).join(", ")}` });
      const dest = join(config.modelsDir, entry.file);
      let lastPct = -1;
      const result = await downloadModel({
        url: modelUrl(entry),
        dest,
        expected: { algorithm: "sha1", digest: entry.sha1 },
        onProgress: (done, total) => {
          const pct = total ? Math.floor((100 * done) / total) : -1;
          if (pct !== lastPct && pct % 5 === 0) io.stderr.write(`\r${entry.name}: ${pct}% of ${((total ?? 0) / 1e6).toFixed(0)} MB`);
          lastPct = pct;
        },
      });
      io.stderr.write(`\n${entry.name} saved to ${result.path} (sha256 ${result.sha256})\n`);
      return EXIT.ok;
    }
    case "verify": {
      const targets = name ? installed.filter((i) => i.name === name || i.path.endsWith(`ggml-${name}.bin`)) : installed;
      if (!targets.length)
        throw new FleetError(
          "MODEL_NOT_FOUND",
          name ? `Model "${name}" is not installed in ${config.modelsDir}.` : `No model is installed in ${config.modelsDir}.`,
        );
      let bad = 0;
      for (const t of targets) {
        const entry = MODEL_CATALOG.find((m) => t.path.endsWith(m.file));
        const r = await verifyModel(t.path, entry ? { algorithm: "sha1", digest: entry.sha1 } : undefined);
        io.stdout.write(`${r.ok ? "ok  " : "BAD "} ${t.name} sha256 ${r.sha256}${r.reason ? ` (${r.reason})` : ""}\n`);
        if (!r.ok) bad++;
      }
      return bad ? EXIT.failed : EXIT.ok;
    }
    default:
      io.stderr.write(`Unknown models command "${sub}".\n\n${USAGE}\n`);
      return EXIT.usage;
  }
}
