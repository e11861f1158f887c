/**
 * Messages between a front end and the engine host process (child_process IPC). The host runs the
 * native addon and the scheduler, so a native crash or out-of-memory kills only the host, and
 * large buffers never enter the front end's heap.
 */
import type { SerializedError } from "../core/errors";
import type { SessionMemory } from "./SessionPool";
import type { TranscribeFileOptions } from "../core/FleetSession";
import type { ProgressSnapshot } from "../core/scheduling/progress";
import type { Segment, Transcript } from "../core/types";
import type { ConfigSource } from "../core/config";
import type { CostEstimate } from "../core/cloud/cloudModels";

export type HostRequest =
  | {
      type: "transcribe";
      id: number;
      path: string;
      config: ConfigSource;
      overrides?: TranscribeFileOptions["overrides"];
      /** The host records the job in history and runs it to the end even if its parent goes away. */
      track?: { heartbeatMs: number };
      /** Ask (confirm-cost) before audio goes to a paid API. */
      confirmCost?: boolean;
    }
  | { type: "cancel"; id: number }
  /** The user's answer to a confirm-cost event. */
  | { type: "cost-answer"; id: number; ok: boolean }
  | { type: "status"; id: number }
  | { type: "shutdown" };

export type WireError = SerializedError;

export type HostEvent =
  | { type: "ready"; pid: number }
  /** Audio is about to go to a paid API: the front end asks the user (no answer, no upload). */
  | { type: "confirm-cost"; id: number; estimate: CostEstimate }
  /** A tracked job's history entry. */
  | { type: "tracked"; id: number; entryId: string }
  | { type: "progress"; id: number; snapshot: ProgressSnapshot }
  /** The stitched transcript so far (in order, final text only), each time it grows. */
  | { type: "segments"; id: number; segments: Segment[] }
  | { type: "done"; id: number; transcript: Transcript }
  | { type: "failed"; id: number; error: WireError }
  | { type: "status"; id: number; sessions: SessionMemory[] };
