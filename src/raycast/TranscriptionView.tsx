/**
 * Live transcription in a Detail: the plan's parallel progress panel and the transcript as it grows
 * (stitched so far, in order) while it runs, then the transcript with its actions. Leaving the view
 * cancels the job.
 */
import { writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";

import { Action, ActionPanel, Detail, Icon, Keyboard, showToast, Toast, useNavigation } from "@raycast/api";

import type { ConfigSource } from "../core/config";
import { formatTranscript, type OutputFormat } from "../core/output/formats";
import { progressLine, progressPanel, type ProgressSnapshot } from "../core/scheduling/progress";
import type { Segment, Transcript } from "../core/types";
import { failureAction } from "./failure";
import { useTrackedJob } from "./jobs";
import { transcriptMarkdown } from "./markdown";

export interface TranscriptionViewProps {
  file: string;
  source: ConfigSource;
  overrides: Record<string, unknown>;
  format: OutputFormat;
}

/** The most recent text shown while a job runs (a Detail re-renders the whole markdown each time). */
const GROWING_TEXT_CHARS = 4000;

export function progressMarkdown(file: string, snapshot?: ProgressSnapshot, segments: Segment[] = []): string {
  if (!snapshot) return `## ${basename(file)}\n\nStarting…`;
  const lines = snapshot.phase === "transcribing" ? progressPanel(snapshot) : [progressLine(snapshot)];
  const panel = `## ${basename(file)}\n\n${progressLine(snapshot)}\n\n\`\`\`\n${lines.join("\n")}\n\`\`\``;
  if (!segments.length) return panel;
  const text = segments.map((s) => s.text.trim()).join(" ");
  const shown = text.length > GROWING_TEXT_CHARS ? `…${text.slice(-GROWING_TEXT_CHARS).replace(/^\S*\s/, "")}` : text;
  return `${panel}\n\n---\n\n${shown}`;
}

export function TranscriptionView(props: TranscriptionViewProps) {
  const { pop, push } = useNavigation();
  const job = useTrackedJob(props.file, props.source, props.overrides);

  if (job.failure) {
    const action = failureAction(job.failure, {
      retry: job.retry,
      useCloud: () =>
        push(<TranscriptionView {...props} source={{ ...props.source, WHISPER_FLEET_ENGINE: "cloud" }} overrides={{ ...props.overrides, engine: "cloud" }} />),
    });
    return (
      <Detail
        markdown={`## ${job.failure.title}\n\n${job.failure.message}`}
        actions={
          <ActionPanel>
            {action ? <Action title={action.title} icon={Icon.Wand} onAction={action.onAction} /> : null}
            {job.failure.action !== "retry" ? <Action title="Try Again" icon={Icon.ArrowClockwise} onAction={job.retry} /> : null}
          </ActionPanel>
        }
      />
    );
  }
  if (!job.transcript) {
    return (
      <Detail
        isLoading
        markdown={progressMarkdown(props.file, job.snapshot, job.segments)}
        actions={
          <ActionPanel>
            <Action title="Cancel" icon={Icon.XMarkCircle} onAction={() => (job.cancel(), pop())} />
          </ActionPanel>
        }
      />
    );
  }
  return <TranscriptDetail transcript={job.transcript} format={props.format} />;
}

export function TranscriptDetail({ transcript, format }: { transcript: Transcript; format: OutputFormat }) {
  const text = formatTranscript(transcript, format);
  const plain = formatTranscript(transcript, "txt");
  const source = transcript.source.path;
  const target = join(dirname(source), `${basename(source, extname(source))}.${format}`);
  const m = transcript.metrics;
  return (
    <Detail
      markdown={transcriptMarkdown(transcript)}
      metadata={
        <Detail.Metadata>
          <Detail.Metadata.Label title="Duration" text={`${(transcript.source.duration / 60).toFixed(1)} min`} />
          <Detail.Metadata.Label title="Engine" text={`${transcript.engine} · ${transcript.model}`} />
          <Detail.Metadata.Label title="Language" text={transcript.language ?? "unknown"} />
          {m ? <Detail.Metadata.Label title="Speed" text={`${m.realtimeFactor.toFixed(1)}x realtime · ${(m.wallMs / 1000).toFixed(1)} s`} /> : null}
          {m ? <Detail.Metadata.Label title="Workers" text={m.workers.decision} /> : null}
          {transcript.gaps.length ? (
            <Detail.Metadata.Label title="Gaps" text={transcript.gaps.map((g) => `${g.start.toFixed(0)}–${g.end.toFixed(0)} s ${g.code}`).join(", ")} />
          ) : null}
          {transcript.fallbacks.length ? (
            <Detail.Metadata.Label title="Fallbacks" text={transcript.fallbacks.map((f) => `${f.from} → ${f.to}`).join(", ")} />
          ) : null}
        </Detail.Metadata>
      }
      actions={
        <ActionPanel>
          <Action.CopyToClipboard title="Copy Transcript" content={text} />
          <Action.Paste title="Paste Transcript" content={text} />
          <Action.CopyToClipboard title="Copy as SRT" content={formatTranscript(transcript, "srt")} />
          <Action.CopyToClipboard title="Copy as VTT" content={formatTranscript(transcript, "vtt")} />
          <Action.CopyToClipboard title="Copy Plain Text" content={plain} />
          <Action
            title="Save Next to Source File"
            icon={Icon.SaveDocument}
            shortcut={Keyboard.Shortcut.Common.Save}
            onAction={async () => {
              await writeFile(target, text);
              await showToast({ style: Toast.Style.Success, title: "Saved", message: target });
            }}
          />
          <Action.Open title="Open Source in Default App" target={source} />
          <Action.ShowInFinder path={source} />
        </ActionPanel>
      }
    />
  );
}
