/**
 * Menu bar: the jobs the engine host is running (file, chunks done, ETA) with Cancel, and the
 * latest finished ones with Copy Result. Jobs outlive the command that started them, so this is
 * where an hour-long job is watched and collected. Raycast refreshes it every 10 s (manifest
 * interval); the list comes from history, which the host writes on every heartbeat.
 */
import { basename } from "node:path";

import { Clipboard, getPreferenceValues, Icon, launchCommand, LaunchType, MenuBarExtra, showHUD } from "@raycast/api";
import { usePromise } from "@raycast/utils";

import type { HistoryEntry } from "./core/history/HistoryStore";
import { formatTranscript, type OutputFormat } from "./core/output/formats";
import { historyStore } from "./raycast/folders";
import type { Preferences } from "./raycast/preferences";

/** Finished jobs shown for collecting, newest first. */
const RECENT = 5;

export function jobTitle(e: HistoryEntry): string {
  return `${basename(e.file)}${e.progress ? ` · ${e.progress.replace(/^Transcribing \S+ · /, "")}` : " · starting"}`;
}

export default function RunningJobs() {
  const prefs = getPreferenceValues<Preferences>();
  const { data: entries, isLoading, revalidate } = usePromise(() => historyStore().list());
  const running = (entries ?? []).filter((e) => e.status === "running");
  const recent = (entries ?? []).filter((e) => e.status === "done" && e.transcript).slice(0, RECENT);

  return (
    <MenuBarExtra
      icon={Icon.Microphone}
      title={running.length ? String(running.length) : undefined}
      tooltip={running.length ? `Whisper Fleet: ${running.length} transcription(s) running` : "Whisper Fleet"}
      isLoading={isLoading}
    >
      <MenuBarExtra.Section title={running.length ? "Running" : "Nothing running"}>
        {running.map((e) => (
          <MenuBarExtra.Submenu key={e.id} icon={Icon.CircleProgress} title={jobTitle(e)}>
            <MenuBarExtra.Item
              title="Cancel"
              icon={Icon.XMarkCircle}
              tooltip="Finished chunks are kept, so running it again resumes"
              onAction={async () => {
                await historyStore().requestCancel(e.id);
                await showHUD(`Cancelling ${basename(e.file)}`);
                revalidate();
              }}
            />
          </MenuBarExtra.Submenu>
        ))}
      </MenuBarExtra.Section>
      <MenuBarExtra.Section title="Finished">
        {recent.map((e) => (
          <MenuBarExtra.Item
            key={e.id}
            icon={Icon.Clipboard}
            title={`Copy Result: ${basename(e.file)}`}
            onAction={async () => {
              await Clipboard.copy(formatTranscript(e.transcript!, prefs.outputFormat as OutputFormat));
              await showHUD(`Copied transcript of ${basename(e.file)}`);
            }}
          />
        ))}
      </MenuBarExtra.Section>
      <MenuBarExtra.Section>
        <MenuBarExtra.Item
          title="Transcription History"
          icon={Icon.List}
          onAction={() => void launchCommand({ name: "transcription-history", type: LaunchType.UserInitiated })}
        />
      </MenuBarExtra.Section>
    </MenuBarExtra>
  );
}
