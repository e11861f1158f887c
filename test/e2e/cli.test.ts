/** The command-line front end, in process: real core, real addon, real ffmpeg. */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { parseSync } from "subtitle";
import { describe, expect, it } from "vitest";

import { EXIT, main, outputPaths } from "../../src/cli/main";
import { makeMedia } from "../support/audio";
import { jfkWav, lj001, model } from "../support/paths";

/** Every write to stdout and stderr, in the order they happened. */
type Log = { stream: "out" | "err"; text: string }[];

function sink(name: "out" | "err", log: Log = []) {
  const chunks: string[] = [];
  const write = (s: string) => {
    chunks.push(String(s));
    log.push({ stream: name, text: String(s) });
    return true;
  };
  return { stream: { isTTY: false, write } as unknown as NodeJS.WriteStream, text: () => chunks.join("") };
}

async function run(args: string[], env: Record<string, string> = {}, log: Log = []) {
  const out = sink("out", log);
  const err = sink("err", log);
  const home = mkdtempSync(join(tmpdir(), "wf-cli-"));
  const code = await main(args, { stdout: out.stream, stderr: err.stream, env: { WHISPER_FLEET_HOME: home, WHISPER_FLEET_TMPDIR: home, ...env } });
  return { code, stdout: out.text(), stderr: err.text(), home };
}

describe("whisper-fleet CLI", () => {
  it("transcribes to SRT in a file, with plain progress lines when not on a terminal", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-cli-out-"));
    const out = join(dir, "jfk.srt");
    const r = await run(["transcribe", jfkWav, "--engine", "local", "--model", model("tiny.en"), "--format", "srt", "--out", out]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toMatch(/Transcribing jfk\.wav · \d+\/1 chunks/);
    expect(r.stderr).toMatch(/jfk\.wav: \d+ segments, 11\.0 s of audio/);
    const cues = parseSync(readFileSync(out, "utf8")).filter((n) => n.type === "cue");
    expect(cues.length).toBeGreaterThan(0);
  });

  it("prints JSON to stdout with times in seconds on the file's timeline", async () => {
    const r = await run(["transcribe", jfkWav, "--model", model("tiny.en"), "--format", "json", "--quiet", "--workers", "1"]);
    expect(r.code).toBe(EXIT.ok);
    const json = JSON.parse(r.stdout);
    expect(json.segments[0]).toMatchObject({ start: expect.any(Number), end: expect.any(Number), text: expect.any(String) });
    expect(json.segments.at(-1).end).toBeLessThanOrEqual(11.01);
    expect(r.stderr).toBe("");
  });

  it("uses the first installed model when none is configured, and says how to get one when there is none", async () => {
    const models = mkdtempSync(join(tmpdir(), "wf-models-"));
    const none = await run(["transcribe", jfkWav, "--quiet"], { WHISPER_FLEET_MODELS_DIR: models, WHISPER_FLEET_ENGINE: "local" });
    expect(none.code).toBe(EXIT.failed);
    expect(none.stderr).toContain("MODEL_NOT_FOUND");
    expect(none.stderr).toContain("whisper-fleet models download");
    symlinkSync(model("tiny.en"), join(models, "ggml-tiny.en.bin"));
    const ok = await run(["transcribe", jfkWav, "--quiet", "--format", "txt"], { WHISPER_FLEET_MODELS_DIR: models });
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.stdout).toContain("Printing");
    const list = await run(["models", "list"], { WHISPER_FLEET_MODELS_DIR: models });
    expect(list.stdout).toMatch(/✓ tiny\.en/);
    expect(list.stdout).toMatch(/ {2}large-v3-turbo /);
  });

  it("writes plain text to stdout while the job runs, exactly the text it writes to a file", async () => {
    const clip = makeMedia("lj001-480s.flac", ["-i", lj001, "-t", "480"]);
    const log: Log = [];
    const streamed = await run(["transcribe", clip, "--model", model("tiny.en"), "--no-cache", "--workers", "1"], {}, log);
    expect(streamed.code).toBe(EXIT.ok);
    // Text reached stdout before the progress line that counts the last chunk done.
    const firstText = log.findIndex((l) => l.stream === "out");
    const allDone = log.findIndex((l) => {
      const m = /· (\d+)\/(\d+) chunks/.exec(l.text);
      return l.stream === "err" && m !== null && m[1] === m[2];
    });
    expect(firstText).toBeGreaterThanOrEqual(0);
    expect(allDone).toBeGreaterThan(firstText);
    const dir = mkdtempSync(join(tmpdir(), "wf-cli-txt-"));
    const file = await run(["transcribe", clip, "--model", model("tiny.en"), "--no-cache", "--workers", "1", "--quiet", "--out", join(dir, "t.txt")]);
    expect(file.code).toBe(EXIT.ok);
    expect(streamed.stdout).toBe(readFileSync(join(dir, "t.txt"), "utf8"));
  });

  it("prices a long upload to the OpenAI API before anything is sent, and stops when declined", async () => {
    const out = sink("out");
    const err = sink("err");
    const home = mkdtempSync(join(tmpdir(), "wf-cli-cost-"));
    const asked: string[] = [];
    const code = await main(["transcribe", lj001, "--engine", "cloud", "--no-cache"], {
      stdout: out.stream,
      stderr: err.stream,
      env: { WHISPER_FLEET_HOME: home, WHISPER_FLEET_TMPDIR: home, OPENAI_API_KEY: "sk-test" },
      ask: async (q) => (asked.push(q), "n"),
    });
    expect(code).toBe(EXIT.cancelled);
    // 20 minutes of whisper-1 at $0.006 a minute.
    expect(err.text()).toMatch(/This sends 20 minutes of audio to the OpenAI API \(whisper-1\): about \$0\.12 at \$0\.006\/min/);
    expect(asked).toEqual(["Continue? [y/N] "]);
    expect(out.text()).toBe("");
  });

  it("exit codes scripts can use: usage 2, failure 1", async () => {
    expect((await run([])).code).toBe(EXIT.usage);
    expect((await run(["frobnicate"])).code).toBe(EXIT.usage);
    expect((await run(["transcribe"])).code).toBe(EXIT.usage);
    expect((await run(["transcribe", jfkWav, "--format", "docx"])).code).toBe(EXIT.usage);
    // An unknown or incomplete option is a usage error that names it, not an UNKNOWN failure.
    const unknown = await run(["transcribe", jfkWav, "--bogus"]);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/^error INVALID_ARGUMENT: Unknown option '--bogus'\n.*--help/);
    expect((await run(["transcribe", jfkWav, "--chunk"])).stderr).toContain("INVALID_ARGUMENT: Option '--chunk <value>' argument missing");
    const help = await run(["transcribe", "--help"]);
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain("Transcribe options:");
    const bad = await run(["transcribe", jfkWav, "--workers", "0", "--model", model("tiny.en")]);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain("WHISPER_FLEET_WORKERS");
    const missing = await run(["transcribe", "/nope/missing.wav", "--model", model("tiny.en")]);
    expect(missing.code).toBe(EXIT.failed);
    expect(missing.stderr).toContain("FILE_NOT_FOUND");
  });

  it("writes one output per input in --out, never one over another when names meet", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-cli-multi-"));
    mkdirSync(dir, { recursive: true });
    const r = await run(["transcribe", jfkWav, join(dirname(jfkWav), "jfk.mp3"), "--model", model("tiny.en"), "--format", "vtt", "--out", dir, "--quiet"]);
    expect(r.code).toBe(EXIT.ok);
    expect(readFileSync(join(dir, "jfk.vtt"), "utf8").startsWith("WEBVTT")).toBe(true);
    // jfk.wav and jfk.mp3 both make "jfk": the second keeps its extension in the name.
    expect(readFileSync(join(dir, "jfk.mp3.vtt"), "utf8").startsWith("WEBVTT")).toBe(true);
    expect(r.stderr).toBe("");
    expect(outputPaths(["a/x.wav", "b/x.wav", "c/x.wav"], "/out", "srt")).toEqual(["/out/x.srt", "/out/x.wav.srt", "/out/x-2.srt"]);
  });

  it("Ctrl-C cancels cleanly with exit 130", async () => {
    const pending = run(["transcribe", lj001, "--model", model("tiny.en"), "--quiet", "--no-cache"]);
    await new Promise((r) => setTimeout(r, 4000));
    process.emit("SIGINT");
    const r = await pending;
    expect(r.code).toBe(EXIT.cancelled);
    expect(r.stderr).toContain("Cancelling");
  });
});

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf("/"));
}
