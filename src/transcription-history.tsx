import { basename } from "node:path";

import { Action, ActionPanel, Color, confirmAlert, getPreferenceValues, Icon, Keyboard, List, showToast, Toast } from "@raycast/api";
import { usePromise } from "@raycast/utils";

import type { HistoryEntry, JobStatus } from "./core/history/HistoryStore";
import { formatTranscript, type OutputFormat } from "./core/output/formats";
import { historyStore } from "./raycast/folders";
import { transcriptMarkdown } from "./raycast/markdown";
import { currentConfigSource, type Preferences } from "./raycast/preferences";
import { TranscriptionView } from "./raycast/TranscriptionView";

const STATUS: Record<JobStatus, { text: string; color: Color }> = {
  running: { text: "Running", color: Color.Blue },
  done: { text: "Done", color: Color.Green },
  failed: { text: "Failed", color: Color.Red },
  cancelled: { text: "Cancelled", color: Color.SecondaryText },
  interrupted: { text: "Interrupted", color: Color.Orange },
};

export function entryMarkdown(e: HistoryEntry): string {
  if (e.transcript) return transcriptMarkdown(e.transcript);
  if (e.error) return `## ${basename(e.file)}\n\n**${e.error.code}**: ${e.error.message}${e.error.hint ? `\n\n${e.error.hint}` : ""}`;
  if (e.status === "interrupted")
    return `## ${basename(e.file)}\n\nRaycast stopped this job before it finished${e.progress ? ` (${e.progress})` : ""}. Resume it: finished chunks are reused.`;
  return `## ${basename(e.file)}\n\n${e.progress ?? "Running…"}`;
}

export default function TranscriptionHistory() {
  const prefs = getPreferenceValues<Preferences>();
  // usePromise, not useCachedPromise: entries carry whole transcripts, too big for Raycast's cache.
  const { data: entries, isLoading, revalidate: reload } = usePromise(() => historyStore().list());

  return (
    <List isLoading={isLoading} isShowingDetail searchBarPlaceholder="Search transcripts and file names">
      <List.EmptyView title="No transcriptions yet" description="Run Transcribe File or Transcribe Selected Files." />
      {(entries ?? []).map((e) => {
        const text = e.transcript ? formatTranscript(e.transcript, prefs.outputFormat as OutputFormat) : "";
        const status = STATUS[e.status];
        return (
          <List.Item
            key={e.id}
            title={basename(e.file)}
            keywords={[e.file, ...(e.transcript ? e.transcript.segments.slice(0, 200).map((s) => s.text) : [])]}
            accessories={[{ tag: { value: status.text, color: status.color } }, { date: new Date(e.startedAt) }]}
            detail={
              <List.Item.Detail
                markdown={entryMarkdown(e)}
                metadata={
                  e.transcript ? (
                    <List.Item.Detail.Metadata>
                      <List.Item.Detail.Metadata.Label title="Engine" text={`${e.transcript.engine} · ${e.transcript.model}`} />
                      <List.Item.Detail.Metadata.Label title="Duration" text={`${(e.transcript.source.duration / 60).toFixed(1)} min`} />
                      {e.transcript.metrics ? (
                        <List.Item.Detail.Metadata.Label
                          title="Time"
                          text={`${(e.transcript.metrics.wallMs / 1000).toFixed(1)} s · ${e.transcript.metrics.realtimeFactor.toFixed(1)}x realtime`}
                        />
                      ) : null}
                      <List.Item.Detail.Metadata.Label title="Gaps" text={String(e.transcript.gaps.length)} />
                    </List.Item.Detail.Metadata>
                  ) : undefined
                }
              />
            }
            actions={
              <ActionPanel>
                {e.transcript ? <Action.CopyToClipboard title="Copy Transcript" content={text} /> : null}
                {e.transcript ? <Action.CopyToClipboard title="Copy as SRT" content={formatTranscript(e.transcript, "srt")} /> : null}
                {e.transcript ? <Action.CopyToClipboard title="Copy as Markdown" content={formatTranscript(e.transcript, "md")} /> : null}
                {e.status !== "done" && e.status !== "running" ? (
                  <Action.Push
                    title={e.status === "interrupted" ? "Resume" : "Run Again"}
                    icon={Icon.ArrowClockwise}
                    target={<ResumeView entry={e} format={prefs.outputFormat as OutputFormat} />}
                  />
                ) : null}
                <Action.ShowInFinder path={e.file} />
                <Action
                  title="Delete"
                  icon={Icon.Trash}
                  style={Action.Style.Destructive}
                  shortcut={Keyboard.Shortcut.Common.Remove}
                  onAction={async () => {
                    if (!(await confirmAlert({ title: `Delete the transcript of ${basename(e.file)}?` }))) return;
                    await historyStore().remove(e.id);
                    await showToast({ style: Toast.Style.Success, title: "Deleted" });
                    reload();
                  }}
                />
              </ActionPanel>
            }
          />
        );
      })}
    </List>
  );
}

function ResumeView({ entry, format }: { entry: HistoryEntry; format: OutputFormat }) {
  const { data: source } = usePromise(currentConfigSource);
  if (!source) return <List isLoading />;
  return <TranscriptionView file={entry.file} source={source} overrides={entry.overrides} format={format} />;
}
