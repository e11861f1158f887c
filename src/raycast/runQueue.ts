/**
 * Runs files through the engine host with one Animated toast updated in place, saves each job to
 * history as it goes, and hands the result to the clipboard. Used by the no-view command.
 */
import { basename } from "node:path";

import { Clipboard, launchCommand, LaunchType, openExtensionPreferences, showHUD, showToast, Toast } from "@raycast/api";

import { toFleetError } from "../core/errors";
import { formatTranscript } from "../core/output/formats";
import { progressLine } from "../core/scheduling/progress";
import type { Transcript } from "../core/types";
import type { ConfigSource } from "../core/config";
import { engineClient, historyStore } from "./engine";
import { describeFailure } from "./failure";
import type { Preferences } from "./preferences";

export interface QueueResult {
  transcripts: Transcript[];
  failed: number;
  cancelled: boolean;
}

export async function runQueue(
  files: string[],
  source: ConfigSource,
  prefs: Pick<Preferences, "outputFormat" | "onFinish">,
  overrides: Record<string, unknown> = {},
): Promise<QueueResult> {
  const controller = new AbortController();
  const toast = await showToast({
    style: Toast.Style.Animated,
    title: files.length > 1 ? `Transcribing 1/${files.length}` : "Transcribing",
    message: basename(files[0]),
    primaryAction: { title: "Cancel", onAction: () => controller.abort() },
  });
  const history = historyStore();
  const transcripts: Transcript[] = [];
  const texts: string[] = [];
  let failed = 0;
  let lastFailure: unknown;
  for (const [i, file] of files.entries()) {
    if (controller.signal.aborted) break;
    const entry = await history.start(file, overrides);
    let lastBeat = 0;
    try {
      const transcript = await engineClient().transcribe(file, source, {
        signal: controller.signal,
        overrides,
        onProgress: (snapshot) => {
          toast.title = files.length > 1 ? `Transcribing ${i + 1}/${files.length}` : "Transcribing";
          toast.message = progressLine(snapshot).replace(/^Transcribing /, "");
          if (Date.now() - lastBeat > 5000) {
            lastBeat = Date.now();
            void history.heartbeat(entry, progressLine(snapshot)).catch(() => undefined);
          }
        },
      });
      transcripts.push(transcript);
      texts.push(formatTranscript(transcript, prefs.outputFormat));
      await history.finish(entry, { transcript });
    } catch (error) {
      const e = toFleetError(error);
      await history.finish(entry, { error: e.toJSON(), cancelled: e.code === "ABORTED" });
      if (e.code === "ABORTED") break;
      failed++;
      lastFailure = e;
    }
  }
  const cancelled = controller.signal.aborted;
  if (cancelled) {
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
    toast.primaryAction = failureAction(view.action, view.actionTitle, files, source, prefs, overrides);
  }
  if (transcripts.length) {
    const text = texts.join("\n\n");
    if (prefs.onFinish === "paste") await Clipboard.paste(text);
    else await Clipboard.copy(text);
    const what = transcripts.length > 1 ? `${transcripts.length} transcripts` : `transcript of ${basename(transcripts[0].source.path)}`;
    if (!failed && !cancelled) {
      await toast.hide();
      await showHUD(`${prefs.onFinish === "paste" ? "Pasted" : "Copied"} ${what}`);
    }
  }
  return { transcripts, failed, cancelled };
}

function failureAction(
  action: string,
  title: string | undefined,
  files: string[],
  source: ConfigSource,
  prefs: Pick<Preferences, "outputFormat" | "onFinish">,
  overrides: Record<string, unknown>,
): Toast.ActionOptions | undefined {
  switch (action) {
    case "open-preferences":
      return { title: title ?? "Open Extension Preferences", onAction: () => void openExtensionPreferences() };
    case "manage-models":
      return { title: title ?? "Manage Models", onAction: () => void launchCommand({ name: "manage-models", type: LaunchType.UserInitiated }) };
    case "use-cloud":
      return {
        title: title ?? "Use the Cloud Engine",
        onAction: () => void runQueue(files, { ...source, WHISPER_FLEET_ENGINE: "cloud" }, prefs, { ...overrides, engine: "cloud" }),
      };
    case "retry":
      return { title: title ?? "Try Again", onAction: () => void runQueue(files, source, prefs, overrides) };
    default:
      return undefined;
  }
}
