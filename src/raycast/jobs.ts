/**
 * The one job lifecycle every command uses: fetch missing runtime components, then a tracked job
 * in the engine host, which owns its history (start, a heartbeat on a timer even through a long
 * decode, the outcome) and finishes it even if this command is unloaded. `useTrackedJob` wraps it
 * for views.
 */
import { confirmAlert, getPreferenceValues, type Toast } from "@raycast/api";
import { useEffect, useRef, useState } from "react";

import type { CostEstimate } from "../core/cloud/cloudModels";
import type { ConfigSource } from "../core/config";
import { toFleetError } from "../core/errors";
import type { ProgressSnapshot } from "../core/scheduling/progress";
import type { Segment, Transcript } from "../core/types";
import { engineClient, hostEnv } from "./engineHost";
import { historyStore } from "./folders";
import { describeFailure, type FailureView } from "./failure";
import type { Preferences } from "./preferences";
import { ensureRuntime } from "./runtime";

/** Under HistoryStore's 30-second staleness, with room for a slow disk (tests shorten it). */
export const jobTiming = { heartbeatMs: 5_000 };

export interface TrackedJob {
  file: string;
  source: ConfigSource;
  overrides: Record<string, unknown>;
  signal: AbortSignal;
  onProgress?: (snapshot: ProgressSnapshot) => void;
  /** The stitched transcript so far, in order, each time it grows. */
  onSegments?: (segments: Segment[]) => void;
  /** The command's toast, which also says what is being downloaded on first use. */
  toast?: Toast;
}

export async function runTrackedJob(job: TrackedJob): Promise<Transcript> {
  const engine = String(job.overrides.engine ?? job.source.WHISPER_FLEET_ENGINE ?? "auto");
  try {
    await ensureRuntime(job.source, hostEnv(), job.signal, engine, job.toast);
  } catch (error) {
    // The job never reached the host: recorded here, so History shows why it did not run.
    const e = toFleetError(error);
    const history = historyStore();
    await history.finish(await history.start(job.file, job.overrides), { error: e.toJSON(), cancelled: e.code === "ABORTED" });
    throw e;
  }
  return engineClient().transcribe(job.file, job.source, {
    signal: job.signal,
    overrides: job.overrides,
    onProgress: job.onProgress,
    onSegments: job.onSegments,
    track: { heartbeatMs: jobTiming.heartbeatMs },
    // The preference "Ask Before Paid Uploads" (the CLI's --yes): off, the host does not ask.
    confirmCost: getPreferenceValues<Preferences>().confirmCloudCost === false ? undefined : confirmCost,
  });
}

/** Before audio goes to api.openai.com (over 10 minutes of it): the price, and the user's yes. */
export function confirmCost(estimate: CostEstimate): Promise<boolean> {
  return confirmAlert({
    title: `Send ${Math.round(estimate.minutes)} minutes of audio to OpenAI?`,
    message: `About $${estimate.usd.toFixed(2)} with ${estimate.model} at OpenAI's list price (as of ${estimate.pricesAsOf}). Nothing is uploaded unless you continue.`,
    primaryAction: { title: "Transcribe in the Cloud" },
  });
}

export interface JobState {
  snapshot?: ProgressSnapshot;
  segments: Segment[];
  transcript?: Transcript;
  failure?: FailureView;
  retry(): void;
  cancel(): void;
}

/** Runs one tracked job for a view; leaving the view cancels it. */
export function useTrackedJob(file: string, source: ConfigSource, overrides: Record<string, unknown>): JobState {
  const [snapshot, setSnapshot] = useState<ProgressSnapshot>();
  const [segments, setSegments] = useState<Segment[]>([]);
  const [transcript, setTranscript] = useState<Transcript>();
  const [failure, setFailure] = useState<FailureView>();
  const [attempt, setAttempt] = useState(0);
  const controller = useRef<AbortController>(undefined);

  useEffect(() => {
    const c = new AbortController();
    controller.current = c;
    runTrackedJob({ file, source, overrides, signal: c.signal, onProgress: setSnapshot, onSegments: setSegments }).then(setTranscript, (error: unknown) => {
      if (!c.signal.aborted) setFailure(describeFailure(error));
    });
    return () => c.abort();
  }, [file, attempt]);

  return {
    snapshot,
    segments,
    transcript,
    failure,
    retry: () => {
      setFailure(undefined);
      setSnapshot(undefined);
      setSegments([]);
      setAttempt((n) => n + 1);
    },
    cancel: () => controller.current?.abort(),
  };
}
