/** A failure → what the toast or view says and the one action that helps (every command uses this). */
import { launchCommand, LaunchType, openExtensionPreferences } from "@raycast/api";

import { FleetError, toFleetError } from "../core/errors";

export type FailureAction = "open-preferences" | "manage-models" | "use-cloud" | "retry" | "none";

export interface FailureView {
  title: string;
  message: string;
  action: FailureAction;
  actionTitle?: string;
}

const BY_CODE: Partial<Record<string, { title: string; action: FailureAction; actionTitle?: string }>> = {
  MODEL_NOT_FOUND: { title: "No Whisper model", action: "manage-models", actionTitle: "Download a Model" },
  MODEL_INVALID: { title: "Model file is damaged", action: "manage-models", actionTitle: "Manage Models" },
  MODEL_LOAD_TIMEOUT: { title: "Model did not load", action: "manage-models", actionTitle: "Manage Models" },
  ADDON_NOT_FOUND: { title: "Local engine unavailable", action: "use-cloud", actionTitle: "Use the Cloud Engine" },
  ADDON_LOAD_FAILED: { title: "Local engine unavailable", action: "use-cloud", actionTitle: "Use the Cloud Engine" },
  OUT_OF_MEMORY: { title: "Not enough memory", action: "open-preferences", actionTitle: "Lower Max Workers" },
  FFMPEG_NOT_FOUND: { title: "ffmpeg not found", action: "open-preferences", actionTitle: "Set ffmpeg Path" },
  CLOUD_AUTH: { title: "OpenAI key rejected", action: "open-preferences", actionTitle: "Open Extension Preferences" },
  CLOUD_QUOTA: { title: "OpenAI quota used up", action: "open-preferences", actionTitle: "Open Extension Preferences" },
  CLOUD_NOT_CONFIGURED: { title: "Cloud engine not set up", action: "open-preferences", actionTitle: "Add an API Key" },
  CONFIG_INVALID: { title: "Invalid setting", action: "open-preferences", actionTitle: "Open Extension Preferences" },
  ENGINE_CRASHED: { title: "Transcription engine crashed", action: "retry", actionTitle: "Try Again" },
  NOT_MEDIA: { title: "Not an audio or video file", action: "none" },
  NO_AUDIO_STREAM: { title: "No audio track", action: "none" },
  FILE_NOT_FOUND: { title: "File not found", action: "none" },
  MEDIA_CORRUPT: { title: "File is damaged", action: "none" },
  DOWNLOAD_FAILED: { title: "Download failed", action: "retry", actionTitle: "Try Again" },
  CHECKSUM_MISMATCH: { title: "Download did not verify", action: "retry", actionTitle: "Try Again" },
  COMPONENT_INVALID: { title: "Download could not be unpacked", action: "retry", actionTitle: "Try Again" },
  COMPONENT_UNAVAILABLE: { title: "No local engine for this Mac", action: "use-cloud", actionTitle: "Use the Cloud Engine" },
  DISK_FULL: { title: "Disk full", action: "none" },
  PERMISSION_DENIED: { title: "Permission denied", action: "none" },
};

export function describeFailure(error: unknown): FailureView {
  const e: FleetError = toFleetError(error);
  const known = BY_CODE[e.code];
  return {
    title: known?.title ?? (e.code === "ABORTED" ? "Transcription cancelled" : "Transcription failed"),
    message: e.describe(),
    action: known?.action ?? "none",
    actionTitle: known?.actionTitle,
  };
}

export interface FailureHandlers {
  retry(): void;
  /** The same job on the cloud engine. */
  useCloud(): void;
}

/** The one action a failure offers, as a toast or an ActionPanel takes it. */
export function failureAction(view: FailureView, handlers: FailureHandlers): { title: string; onAction: () => void } | undefined {
  switch (view.action) {
    case "open-preferences":
      return { title: view.actionTitle ?? "Open Extension Preferences", onAction: () => void openExtensionPreferences() };
    case "manage-models":
      return { title: view.actionTitle ?? "Manage Models", onAction: () => void launchCommand({ name: "manage-models", type: LaunchType.UserInitiated }) };
    case "use-cloud":
      return { title: view.actionTitle ?? "Use the Cloud Engine", onAction: handlers.useCloud };
    case "retry":
      return { title: view.actionTitle ?? "Try Again", onAction: handlers.retry };
    default:
      return undefined;
  }
}
