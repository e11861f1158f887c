/**
 * Live transcription in a Detail: the plan's parallel progress panel while it runs, then the
 * transcript with its actions. Leaving the view cancels the job.
 */
import { writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";

import { Action, ActionPanel, Detail, Icon, Keyboard, openExtensionPreferences, showToast, Toast, useNavigation } from "@raycast/api";
import { useEffect, useRef, useState } from "react";

import type { ConfigSource } from "../core/config";
import { toFleetError } from "../core/errors";
import { formatTranscript, type OutputFormat } from "../core/output/formats";
import { progressLine, progressPanel, type ProgressSnapshot } from "../core/scheduling/progress";
import type { Transcript } from "../core/types";
import { engineClient, historyStore } from "./engine";
import { describeFailure, type FailureView } from "./failure";
import { transcriptMarkdown } from "./markdown";

export interface TranscriptionViewProps {
  file: string;
  source: ConfigSource;
  overrides: Record<string, unknown>;
  format: OutputFormat;
}

export function progressMarkdown(file: string, snapshot?: ProgressSnapshot): string {
  if (!snapshot) return `## ${basename(file)}\n\nStarting…`;
  const lines = snapshot.phase === "transcribing" ? progressPanel(snapshot) : [progressLine(snapshot)];
  return `## ${basename(file)}\n\n${progressLine(snapshot)}\n\n\`\`\`\n${lines.join("\n")}\n\`\`\``;
}

export function TranscriptionView(props: TranscriptionViewProps) {
  const { pop } = useNavigation();
  const [snapshot, setSnapshot] = useState<ProgressSnapshot>();
  const [transcript, setTranscript] = useState<Transcript>();
  const [failure, setFailure] = useState<FailureView>();
  const [attempt, setAttempt] = useState(0);
  const controller = useRef<AbortController>(undefined);

  useEffect(() => {
    const c = new AbortController();
    controller.current = c;
    const history = historyStore();
    let entry: Awaited<ReturnType<typeof history.start>> | undefined;
    void (async () => {
      entry = await history.start(props.file, props.overrides);
      try {
        const t = await engineClient().transcribe(props.file, props.source, { signal: c.signal, overrides: props.overrides, onProgress: setSnapshot });
        await history.finish(entry, { transcript: t });
        setTranscript(t);
      } catch (error) {
        const e = toFleetError(error);
        await history.finish(entry, { error: e.toJSON(), cancelled: e.code === "ABORTED" });
        if (!c.signal.aborted) setFailure(describeFailure(e));
      }
    })();
    return () => c.abort();
  }, [props.file, attempt]);

  if (failure) {
    return (
      <Detail
        markdown={`## ${failure.title}\n\n${failure.message}`}
        actions={
          <ActionPanel>
            <Action title="Try Again" icon={Icon.ArrowClockwise} onAction={() => (setFailure(undefined), setSnapshot(undefined), setAttempt((n) => n + 1))} />
            {failure.action === "open-preferences" ? (
              <Action title={failure.actionTitle ?? "Open Extension Preferences"} icon={Icon.Gear} onAction={openExtensionPreferences} />
            ) : null}
          </ActionPanel>
        }
      />
    );
  }
  if (!transcript) {
    return (
      <Detail
        isLoading
        markdown={progressMarkdown(props.file, snapshot)}
        actions={
          <ActionPanel>
            <Action title="Cancel" icon={Icon.XMarkCircle} onAction={() => (controller.current?.abort(), pop())} />
          </ActionPanel>
        }
      />
    );
  }
  return <TranscriptDetail transcript={transcript} format={props.format} />;
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
