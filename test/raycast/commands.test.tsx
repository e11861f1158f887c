/**
 * The Raycast commands with @raycast/api replaced by a recording stand-in; everything else is
 * real: the engine host child process, the addon, ffmpeg, the history store.
 */
import { fork } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

import { act, type ReactElement } from "react";
import { create, type ReactTestInstance, type ReactTestRenderer } from "react-test-renderer";
import { parseSync } from "subtitle";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { calls, environment, resetRaycast, state, type ToastStub } from "../support/raycast/api";
import TranscribeSelectedFiles from "../../src/transcribe-selected-files";
import TranscribeFile from "../../src/transcribe-file";
import TranscriptionHistory from "../../src/transcription-history";
import ManageModels from "../../src/manage-models";
import { TranscriptionView } from "../../src/raycast/TranscriptionView";
import { engineClient, engineHostScript, hostEnv } from "../../src/raycast/engineHost";
import { historyStore, modelsDir } from "../../src/raycast/folders";
import RunningJobs from "../../src/running-jobs";
import { formatTranscript } from "../../src/core/output/formats";
import type { FleetError } from "../../src/core/errors";
import { configSource, currentConfigSource, type Preferences } from "../../src/raycast/preferences";
import { jobTiming } from "../../src/raycast/jobs";
import { pasteRule } from "../../src/raycast/runQueue";
import { HISTORY_SCHEMA } from "../../src/core/history/HistoryStore";
import { EngineClient } from "../../src/host/EngineClient";
import { makeMedia } from "../support/audio";
import { jfkMp3, jfkWav, lj001, model } from "../support/paths";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const prefs: Preferences = {
  engine: "local",
  model: model("tiny.en"),
  language: "auto",
  translate: false,
  outputFormat: "txt",
  onFinish: "copy",
  autoAdjust: true,
  cloudModel: "whisper-1",
};

beforeEach(() => {
  resetRaycast();
  state.preferences = { ...prefs };
  state.finderItems = [];
});
afterAll(() => engineClient().dispose());

async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await act(async () => {
      await new Promise((r) => setTimeout(r, 50));
    });
  }
}

const lastToast = (): ToastStub => calls.toasts.at(-1)!;
const byType = (root: ReactTestInstance, type: string) => root.findAll((n) => n.type === type);
const actionTitles = (root: ReactTestInstance) =>
  root.findAll((n) => typeof n.type === "string" && n.type.startsWith("Action")).map((n) => n.props.title as string);

describe("Transcribe Selected Files", () => {
  it("transcribes the Finder selection with one toast updated in place, copies the text, and records history", async () => {
    state.finderItems = [{ path: jfkWav }];
    await TranscribeSelectedFiles();
    expect(calls.toasts).toHaveLength(1);
    const toast = lastToast();
    expect(toast.shown.some((s) => /^jfk\.wav · \d\/1 chunks · 1 worker · [\d.]+ chunks\/min · ETA/.test(s.message ?? ""))).toBe(true);
    expect(toast.hidden).toBe(true);
    expect(calls.copied).toHaveLength(1);
    expect(calls.copied[0]).toContain("Printing");
    expect(calls.hud).toEqual(["Copied transcript of jfk.wav"]);
    const [entry] = await historyStore().list();
    expect(entry).toMatchObject({ file: jfkWav, status: "done" });
    expect(entry.transcript!.segments.length).toBeGreaterThan(0);
  });

  it("runs several files as a queue and pastes when asked to", async () => {
    state.preferences = { ...prefs, onFinish: "paste" };
    state.finderItems = [{ path: jfkWav }, { path: jfkMp3 }];
    const result = await TranscribeSelectedFiles();
    expect(result).toBeUndefined();
    expect(calls.pasted).toHaveLength(1);
    expect(calls.pasted[0].match(/Printing/g)!.length).toBeGreaterThanOrEqual(2);
    expect(lastToast().shown.some((s) => s.title === "Transcribing 2/2")).toBe(true);
    expect(calls.hud).toEqual(["Pasted 2 transcripts"]);
  });

  it("pastes only where the user meant: a long job whose app is no longer in front is copied instead", async () => {
    state.preferences = { ...prefs, onFinish: "paste" };
    state.finderItems = [{ path: jfkWav }];
    pasteRule.withinMs = 0; // every job counts as long
    try {
      state.laterFrontmostApps = [{ name: "Safari", bundleId: "com.apple.Safari", path: "/Applications/Safari.app" }];
      await TranscribeSelectedFiles();
      expect(calls.pasted).toHaveLength(0);
      expect(calls.copied).toHaveLength(1);
      expect(calls.hud).toEqual(["Copied transcript of jfk.wav (another app is in front now, so it was not pasted)"]);
      // The same app still in front: pasted into it.
      resetRaycast();
      await TranscribeSelectedFiles();
      expect(calls.pasted).toHaveLength(1);
      expect(calls.hud).toEqual(["Pasted transcript of jfk.wav"]);
    } finally {
      pasteRule.withinMs = 5_000;
    }
  });

  it("asks before sending over 10 minutes of audio to OpenAI; a no uploads nothing", async () => {
    // api.openai.com itself (no base URL): nothing may leave the machine before the user agrees.
    state.preferences = { ...prefs, engine: "cloud", openaiApiKey: "sk-test-not-used" };
    state.finderItems = [{ path: lj001 }];
    state.confirmAnswer = false;
    await TranscribeSelectedFiles();
    expect(calls.confirms).toEqual(["Send 20 minutes of audio to OpenAI?"]);
    expect(lastToast()).toMatchObject({ style: "FAILURE", title: "Not sent to OpenAI" });
    expect(lastToast().message).toMatch(/^Not sent: 20 minutes of audio to the OpenAI API was declined/);
    expect(calls.copied).toEqual([]);
    const entry = (await historyStore().list()).find((e) => e.file === lj001)!;
    expect(entry.status).toBe("cancelled");
  });

  it("says what to do when Finder is not in front or nothing is selected", async () => {
    state.finderItems = new Error("Finder isn't the frontmost application");
    await TranscribeSelectedFiles();
    expect(lastToast()).toMatchObject({ style: "FAILURE", title: "Finder is not in front" });
    state.finderItems = [];
    await TranscribeSelectedFiles();
    expect(lastToast()).toMatchObject({ style: "FAILURE", title: "Nothing selected in Finder" });
  });

  it("turns a missing model into a toast whose action opens Manage Models", async () => {
    state.preferences = { ...prefs, model: join(environment.supportPath, "missing.bin") };
    state.finderItems = [{ path: jfkWav }];
    await TranscribeSelectedFiles();
    const toast = lastToast();
    expect(toast).toMatchObject({ style: "FAILURE", title: "No Whisper model" });
    expect(toast.message).toContain("missing.bin");
    expect(toast.primaryAction?.title).toBe("Download a Model");
    toast.primaryAction!.onAction();
    expect(calls.launched).toEqual([{ name: "manage-models", type: "userInitiated" }]);
    expect(calls.copied).toEqual([]);
  });

  it("cancels from the toast: the job stops and history says cancelled", async () => {
    state.finderItems = [{ path: lj001 }];
    const running = TranscribeSelectedFiles();
    await until(() => calls.toasts.length > 0 && / chunks /.test(lastToast().message ?? ""));
    const t0 = Date.now();
    lastToast().primaryAction!.onAction();
    await running;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(lastToast()).toMatchObject({ style: "FAILURE", title: "Transcription cancelled" });
    const entries = await historyStore().list();
    expect(entries.find((e) => e.file === lj001)?.status).toBe("cancelled");
    expect(calls.copied).toEqual([]);
  });
});

describe("Transcribe File", () => {
  it("starts the job with the form's per-run options", async () => {
    let renderer!: ReactTestRenderer;
    state.finderItems = [{ path: jfkWav }];
    await act(async () => {
      renderer = create(<TranscribeFile />);
    });
    await until(() => (byType(renderer.root, "Form.FilePicker")[0].props.value as string[]).length === 1);
    expect(byType(renderer.root, "Form.FilePicker")[0].props.value).toEqual([jfkWav]);
    const submit = () => byType(renderer.root, "Action.SubmitForm")[0];
    // No file: the form says so at the picker and starts nothing (useForm + FormValidation.Required).
    await act(async () => {
      await submit().props.onSubmit({ files: [], engine: "local", model: "default", language: "ko", translate: true, format: "srt" });
    });
    expect(calls.pushed).toHaveLength(0);
    expect(byType(renderer.root, "Form.FilePicker")[0].props.error).toBe("The item is required");
    await act(async () => {
      await submit().props.onSubmit({ files: [jfkWav], engine: "local", model: "default", language: "ko", translate: true, format: "srt" });
    });
    expect(calls.pushed).toHaveLength(1);
    const pushed = calls.pushed[0] as ReactElement<{ file: string; overrides: Record<string, unknown>; format: string; source: Record<string, unknown> }>;
    expect(pushed.type).toBe(TranscriptionView);
    expect(pushed.props.file).toBe(jfkWav);
    expect(pushed.props.overrides).toEqual({ engine: "local", language: "ko", translate: true });
    expect(pushed.props.format).toBe("srt");
    expect(pushed.props.source.WHISPER_FLEET_MODEL).toBe(model("tiny.en"));
    renderer.unmount();
  });

  it("renders the live worker panel and the growing text, then the transcript with its actions; history beats", async () => {
    jobTiming.heartbeatMs = 300;
    // Four minutes in 30-second chunks: one worker on both cores runs them in a few seconds, and
    // the text must be seen growing between the first chunk and the last (two minutes left too
    // short a window on a loaded machine).
    const clip = makeMedia("lj001-240s.flac", ["-i", lj001, "-t", "240"]);
    const source = configSource({ ...prefs, chunkSeconds: "30" });
    let renderer!: ReactTestRenderer;
    await act(async () => {
      renderer = create(<TranscriptionView file={clip} source={source} overrides={{}} format="srt" />);
    });
    const markdown = () => byType(renderer.root, "Detail")[0]?.props.markdown as string;
    const seen: string[] = [];
    const record = () => (seen.push(markdown() ?? ""), true);
    await until(() => record() && /Worker {2}1 .*% chunk/.test(markdown() ?? ""));
    expect(markdown()).toMatch(/Overall .* \d+\/\d+ chunks/);
    expect(markdown()).toMatch(/chunks\/min · .*x realtime · ETA/);
    await until(() => record() && actionTitles(renderer.root).includes("Copy as SRT"), 120_000);
    // While it ran, the transcript grew below the panel: stitched text, before the job was done.
    const growing = seen.filter((m) => /Overall .* chunks/.test(m) && /\n---\n\n\S+/.test(m));
    expect(growing.length).toBeGreaterThan(0);
    expect(growing[0].split("\n---\n\n")[1].length).toBeGreaterThan(20);
    // A job from Transcribe File beats its heartbeat like every other (it read back as interrupted).
    const entry = (await historyStore().list()).find((e) => e.file === clip)!;
    expect(entry.status).toBe("done");
    expect(Date.parse(entry.heartbeatAt!)).toBeGreaterThan(Date.parse(entry.startedAt));
    expect(markdown()).toMatch(/^# lj001-240s\.flac/);
    expect(actionTitles(renderer.root)).toEqual(expect.arrayContaining(["Copy Transcript", "Paste Transcript", "Copy as VTT", "Save Next to Source File"]));
    const copy = byType(renderer.root, "Action.CopyToClipboard").find((n) => n.props.title === "Copy Transcript")!;
    expect(parseSync(copy.props.content as string).filter((n) => n.type === "cue").length).toBeGreaterThan(3);
    renderer.unmount();
    jobTiming.heartbeatMs = 5_000;
  });

  it("leaving the view cancels the job", async () => {
    let renderer!: ReactTestRenderer;
    await act(async () => {
      renderer = create(<TranscriptionView file={lj001} source={configSource(prefs)} overrides={{}} format="txt" />);
    });
    await until(() => /chunks/.test((byType(renderer.root, "Detail")[0]?.props.markdown as string) ?? ""));
    await act(async () => renderer.unmount());
    const deadline = Date.now() + 5000;
    let status = "";
    while (Date.now() < deadline && status !== "cancelled") {
      await new Promise((r) => setTimeout(r, 100));
      status = (await historyStore().list()).find((e) => e.file === lj001)?.status ?? "";
    }
    expect(status).toBe("cancelled");
  });
});

describe("Transcription History", () => {
  it("lists jobs, marks the ones Raycast interrupted, and offers to resume them", async () => {
    const store = historyStore();
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    await store.save({
      schema: HISTORY_SCHEMA,
      id: "stale",
      file: "/recordings/interview.m4a",
      status: "running",
      startedAt: old,
      heartbeatAt: old,
      overrides: { language: "ko" },
      progress: "12/40 chunks",
    });
    let renderer!: ReactTestRenderer;
    await act(async () => {
      renderer = create(<TranscriptionHistory />);
    });
    await until(() => byType(renderer.root, "List.Item").length > 0);
    const item = byType(renderer.root, "List.Item").find((n) => n.props.title === "interview.m4a")!;
    expect((item.props.accessories as { tag?: { value: string } }[])[0].tag!.value).toBe("Interrupted");
    const detail = item.props.detail as ReactElement<{ markdown: string }>;
    expect(detail.props.markdown).toContain("Resume it: finished chunks are reused");
    const titles = item.findAll((n) => typeof n.type === "string" && n.type.startsWith("Action")).map((n) => n.props.title);
    expect(titles).toEqual(expect.arrayContaining(["Resume", "Delete"]));
    const done = byType(renderer.root, "List.Item").find((n) => n.props.title === "jfk.wav");
    expect(done).toBeDefined();
    renderer.unmount();
  });
});

describe("Manage Models", () => {
  it("shows the catalog with what is installed, and sets the default", async () => {
    mkdirSync(modelsDir(), { recursive: true });
    symlinkSync(model("tiny.en"), join(modelsDir(), "ggml-tiny.en.bin"));
    let renderer!: ReactTestRenderer;
    await act(async () => {
      renderer = create(<ManageModels />);
    });
    const items = byType(renderer.root, "List.Item");
    expect(items.map((i) => i.props.title)).toEqual(
      expect.arrayContaining(["tiny", "tiny.en", "base.en", "large-v3", "large-v3-turbo", "large-v3-turbo-q5_0"]),
    );
    const tiny = items.find((i) => i.props.title === "tiny.en")!;
    expect(tiny.props.accessories).toEqual([{ text: "Installed" }]);
    expect(items.find((i) => i.props.title === "base.en")!.props.accessories).toEqual([{ text: "Not installed" }]);
    const setDefault = tiny.findAll((n) => n.props.title === "Set as Default")[0];
    await act(async () => {
      await setDefault.props.onAction();
    });
    // Stored the way useLocalStorage stores it, and read back by every command's config.
    const path = join(modelsDir(), "ggml-tiny.en.bin");
    expect(JSON.parse(state.storage.get("defaultModel")!)).toBe(path);
    expect((await currentConfigSource()).WHISPER_FLEET_MODEL).toBe(path);
    const tinyNow = () => byType(renderer.root, "List.Item").find((i) => i.props.title === "tiny.en")!;
    expect(tinyNow().props.accessories).toEqual([{ tag: { value: "Default", color: "Blue" } }, { text: "Installed" }]);
    // Delete asks first; "no" keeps the file.
    const remove = () => tinyNow().findAll((n) => n.props.title === "Delete")[0];
    expect(remove().props.shortcut).toEqual({ modifiers: ["ctrl"], key: "x" });
    state.confirmAnswer = false;
    await act(async () => {
      await remove().props.onAction();
    });
    expect(calls.confirms).toEqual(["Delete tiny.en?"]);
    expect(existsSync(path)).toBe(true);
    state.confirmAnswer = true;
    await act(async () => {
      await remove().props.onAction();
    });
    expect(existsSync(path)).toBe(false);
    expect(state.storage.has("defaultModel")).toBe(false);
    renderer.unmount();
  });
});

describe("jobs outlive the command", () => {
  /** `explain` says what was seen instead, when the time runs out. */
  async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 120_000, explain?: () => Promise<string>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`condition not met in time${explain ? `: ${await explain()}` : ""}`);
      await act(async () => {
        await new Promise((r) => setTimeout(r, 100));
      });
    }
  }
  const gone = (pid: number) => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  };

  /** A job started as a command would start it, and then the command goes away (Raycast unloads it). */
  async function startAndLeave(file: string, source: ReturnType<typeof configSource>) {
    const client = new EngineClient({ hostPath: engineHostScript(), env: hostEnv() });
    let entryId: string | undefined;
    let progressed = false;
    const job = client.transcribe(file, source, { track: { heartbeatMs: 300 }, onTracked: (id) => (entryId = id), onProgress: () => (progressed = true) });
    const settled = job.then(
      () => "resolved",
      (e: FleetError) => e.code,
    );
    await eventually(async () => (entryId && progressed ? true : undefined));
    const pid = client.pid!;
    client.release();
    expect(await settled).toBe("ABORTED"); // the caller is told it went on in the background
    return { entryId: entryId!, pid };
  }

  it("a job whose command went away runs to the end, lands in history, and the menu bar copies its result", async () => {
    const clip = makeMedia("lj001-120s.flac", ["-i", lj001, "-t", "120"]);
    // No resume cache: an earlier test transcribed this clip, and the host must do the work itself.
    const { entryId, pid } = await startAndLeave(clip, { ...configSource({ ...prefs, chunkSeconds: "30" }), WHISPER_FLEET_CACHE: "false" });
    // A job that ends any other way, or is still running at the deadline, says how it stands.
    const read = async () => (await historyStore().list()).find((e) => e.id === entryId);
    const show = async () => `${JSON.stringify({ ...(await read()), transcript: undefined }).slice(0, 600)} at ${new Date().toISOString()}`;
    const entry = await eventually(
      async () => {
        const e = await read();
        if (e && e.status !== "running" && e.status !== "done") throw new Error(`the job ended ${e.status}: ${await show()}`);
        return e?.status === "done" ? e : undefined;
      },
      120_000,
      show,
    );
    expect(entry.transcript!.segments.length).toBeGreaterThan(3);
    await eventually(async () => gone(pid), 15_000); // and then the host exits
    let renderer!: ReactTestRenderer;
    await act(async () => {
      renderer = create(<RunningJobs />);
    });
    await until(() => byType(renderer.root, "MenuBarExtra.Item").some((n) => n.props.title === "Copy Result: lj001-120s.flac"));
    const copy = byType(renderer.root, "MenuBarExtra.Item").find((n) => n.props.title === "Copy Result: lj001-120s.flac")!;
    await act(async () => {
      await copy.props.onAction();
    });
    expect(calls.copied).toEqual([formatTranscript(entry.transcript!, "txt")]);
    renderer.unmount();
  });

  it("the menu bar shows a running job's progress and cancels it with no command attached", async () => {
    const { entryId, pid } = await startAndLeave(lj001, { ...configSource(prefs), WHISPER_FLEET_CACHE: "false" });
    // The host's heartbeat has put its progress in history (the menu bar reads it on each refresh).
    await eventually(async () => {
      const entry = (await historyStore().list()).find((e) => e.id === entryId);
      // A job that ended before it reached its chunks says why, instead of a timeout.
      if (entry && entry.status !== "running") throw new Error(`the job ended before its chunks: ${JSON.stringify(entry).slice(0, 600)}`);
      return entry?.progress?.includes("chunks") ? true : undefined;
    });
    let renderer!: ReactTestRenderer;
    await act(async () => {
      renderer = create(<RunningJobs />);
    });
    await until(() => byType(renderer.root, "MenuBarExtra").some((n) => n.props.title === "1"));
    const job = byType(renderer.root, "MenuBarExtra.Submenu").find((n) => (n.props.title as string).startsWith("LJ001_16k.flac"))!;
    expect(job.props.title).toMatch(/\d+\/\d+ chunks/);
    const cancel = job.findAll((n) => (n.type as string) === "MenuBarExtra.Item" && n.props.title === "Cancel")[0];
    await act(async () => {
      await cancel.props.onAction();
    });
    const entry = await eventually(async () => (await historyStore().list()).find((e) => e.id === entryId && e.status !== "running"), 30_000);
    expect(entry.status).toBe("cancelled");
    await eventually(async () => gone(pid), 15_000);
    renderer.unmount();
  });
});

describe("engine host process", () => {
  it("a message to a front end that has just gone is dropped, not an error that ends the host and its jobs", async () => {
    // Raycast unloads a command while its job streams progress: the channel is closed at the far end
    // and the host has not read that yet. Made certain here: the child is busy while its parent
    // disconnects, then sends through the host's helper (it crashed with EPIPE before).
    const child = fork(join(__dirname, "..", "support", "sendAfterDisconnect.mjs"), [], {
      execArgv: ["--disable-warning=MODULE_TYPELESS_PACKAGE_JSON"],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise((resolve) => child.once("message", resolve)); // ready
    child.send("go");
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.disconnect();
    expect(await exited).toBe(0);
    expect(stderr).toContain("sent while still connected"); // the race really happened
  });

  it("a killed engine fails the job cleanly and the next job starts a new one", async () => {
    const client = engineClient();
    let killed = false;
    const pending = client.transcribe(lj001, configSource(prefs), {
      onProgress: (s) => {
        if (!killed && s.phase === "transcribing") {
          killed = true;
          process.kill(client.pid!, "SIGKILL");
        }
      },
    });
    await expect(pending).rejects.toMatchObject({ code: "ENGINE_CRASHED" });
    const first = killed;
    const t = await client.transcribe(jfkWav, configSource(prefs));
    expect(first).toBe(true);
    expect(t.segments.length).toBeGreaterThan(0);
  });

  it("lets go: switching models keeps one idle model loaded, by the addon's own memory figures", async () => {
    const client = engineClient();
    await client.transcribe(jfkWav, configSource(prefs));
    const one = await client.status();
    expect(one.filter((s) => s.bytes > 0)).toHaveLength(1);
    expect(one[0].model).toBe("synthetic-tiny.en");
    await client.transcribe(jfkWav, configSource({ ...prefs, model: model("base.en") }));
    const after = await client.status();
    // Only the model used last is still loaded; tiny.en was disposed.
    expect(after.filter((s) => s.bytes > 0).map((s) => s.model)).toEqual(["synthetic-base.en"]);
    // base's weights are heavier than tiny's (totals also count one state per worker, which
    // depends on the layout each job was given)
    expect(after[0].weightsBytes!).toBeGreaterThan(one[0].weightsBytes! * 1.5);
  });

  it("exits by itself after an idle period", async () => {
    const client = new EngineClient({
      hostPath: engineHostScript(),
      env: { ...process.env, WHISPER_FLEET_HOME: environment.supportPath, WHISPER_FLEET_HOST_IDLE_SECONDS: "1" },
    });
    await client.transcribe(jfkWav, configSource(prefs));
    const pid = client.pid!;
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 15_000);
    client.dispose();
  });
});
