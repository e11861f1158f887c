/**
 * Runs files through the engine host with one Animated toast updated in place (each file a tracked
 * job: history, heartbeat, outcome) and hands the result to the clipboard. Used by the no-view
 * command.
 */
import { basename } from "node:path";

import { Clipboard, getFrontmostApplication, showHUD, showToast, Toast } from "@raycast/api";

import { toFleetError } from "../core/errors";
import { formatTranscript } from "../core/output/formats";
import { progressLine } from "../core/scheduling/progress";
import type { Transcript } from "../core/types";
import type { ConfigSource } from "../core/config";
import { describeFailure, failureAction } from "./failure";
import { runTrackedJob } from "./jobs";
import type { Preferences } from "./preferences";

export interface QueueResult {
  transcripts: Transcript[];
  failed: number;
  cancelled: boolean;
}

/** A paste this soon after the start lands where the user still is (tests shorten it). */
export const pasteRule = { withinMs: 5_000 };

async function frontmostBundle(): Promise<string | undefined> {
  try {
    const app = await getFrontmostApplication();
    return app.bundleId ?? app.path;
  } catch {
    return undefined;
  }
}

/**
 * Pastes only where the user meant: the job ended within a few seconds, or the app in front is the
 * one that was in front when it started. Otherwise the text is copied and the HUD says why.
 */
export async function deliver(text: string, onFinish: Preferences["onFinish"], started: { at: number; app?: string }, what: string): Promise<void> {
  if (onFinish === "paste") {
    const now = await frontmostBundle();
    if (Date.now() - started.at <= pasteRule.withinMs || (started.app !== undefined && now === started.app)) {
      await Clipboard.paste(text);
      await showHUD(`Pasted ${what}`);
      return;
    }
    await Clipboard.copy(text);
    await showHUD(`Copied ${what} (another app is in front now, so it was not pasted)`);
    return;
  }
  await Clipboard.copy(text);
  await showHUD(`Copied ${what}`);
}

export async function runQueue(
  files: string[],
  source: ConfigSource,
  prefs: Pick<Preferences, "outputFormat" | "onFinish">,
  overrides: Record<string, unknown> = {},
): Promise<QueueResult> {
  const started = { at: Date.now(), app: await frontmostBundle() };
  const controller = new AbortController();
  const toast = await showToast({
    style: Toast.Style.Animated,
    title: files.length > 1 ? `Transcribing 1/${files.length}` : "Transcribing",
    message: basename(files[0]),
    primaryAction: { title: "Cancel", onAction: () => controller.abort() },
  });
  const transcripts: Transcript[] = [];
  const texts: string[] = [];
  let failed = 0;
  let lastFailure: unknown;
  let declined: string | undefined;
  for (const [i, file] of files.entries()) {
    if (controller.signal.aborted) break;
    try {
      const transcript = await runTrackedJob({
        file,
        source,
        overrides,
        signal: controller.signal,
        toast,
        onProgress: (snapshot) => {
          toast.title = files.length > 1 ? `Transcribing ${i + 1}/${files.length}` : "Transcribing";
          toast.message = progressLine(snapshot).replace(/^Transcribing /, "");
        },
      });
      transcripts.push(transcript);
      texts.push(formatTranscript(transcript, prefs.outputFormat));
    } catch (error) {
      const e = toFleetError(error);
      if (e.code === "ABORTED") {
        // Not the Cancel action: the user said no to sending audio to a paid API.
        if (!controller.signal.aborted) declined = e.message;
        break;
      }
      failed++;
      lastFailure = e;
    }
  }
  const cancelled = controller.signal.aborted || declined !== undefined;
  if (declined !== undefined) {
    toast.style = Toast.Style.Failure;
    toast.title = "Not sent to OpenAI";
    toast.message = declined;
    toast.primaryAction = undefined;
  } else if (cancelled) {
    toast.style = Toast.Style.Failure;
    toast.title = "Transcription cancelled";
    toast.message = transcripts.length
      ? `${transcripts.length} file(s) finished; finished chunks are kept for next time`
      : "Finished chunks are kept for next time";
    toast.primaryAction = undefined;
  } else if (failed && lastFailure) {
    const view = describeFailure(lastFailure);
    toast.style = Toast.Style.Failure;
    toast.title = files.length > 1 ? `${failed} of ${files.length} failed · ${view.title}` : view.title;
    toast.message = view.message;
    toast.primaryAction = failureAction(view, {
      retry: () => void runQueue(files, source, prefs, overrides),
      useCloud: () => void runQueue(files, { ...source, WHISPER_FLEET_ENGINE: "cloud" }, prefs, { ...overrides, engine: "cloud" }),
    });
  }
  if (transcripts.length) {
    const what = transcripts.length > 1 ? `${transcripts.length} transcripts` : `transcript of ${basename(transcripts[0].source.path)}`;
    if (!failed && !cancelled) {
      await toast.hide();
      await deliver(texts.join("\n\n"), prefs.onFinish, started, what);
    } else {
      // Part of the queue: copied (never pasted), and the toast above says what went wrong.
      await Clipboard.copy(texts.join("\n\n"));
    }
  }
  return { transcripts, failed, cancelled };
}
