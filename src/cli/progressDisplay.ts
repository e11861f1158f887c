/**
 * Terminal progress: on a TTY, the plan's parallel panel (one bar per worker with its chunk, an
 * overall bar, chunks/min and ETA) redrawn in place with cli-progress; otherwise plain lines.
 */
import cliProgress from "cli-progress";

import { formatDuration, heardLine, percentDone, progressLine, type ProgressSnapshot } from "../core/scheduling/progress";

export interface ProgressDisplay {
  update(snapshot: ProgressSnapshot): void;
  stop(): void;
}

export function createProgressDisplay(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressDisplay {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  return stream.isTTY ? new TtyDisplay(stream) : new LineDisplay(stream);
}

class LineDisplay implements ProgressDisplay {
  private last = "";
  private lastAt = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  update(s: ProgressSnapshot): void {
    const line = progressLine(s);
    const key = `${s.phase}|${s.chunks.done}|${s.chunks.failed}|${s.activeWorkers}`;
    const now = Date.now();
    if (key === this.last && now - this.lastAt < 10_000) return;
    this.last = key;
    this.lastAt = now;
    this.stream.write(`${line}\n`);
  }
  stop(): void {}
}

class TtyDisplay implements ProgressDisplay {
  private readonly multi: cliProgress.MultiBar;
  private overall?: cliProgress.SingleBar;
  private readonly lanes: cliProgress.SingleBar[] = [];
  private status?: cliProgress.SingleBar;
  private heard?: cliProgress.SingleBar;

  constructor(stream: NodeJS.WriteStream) {
    this.multi = new cliProgress.MultiBar(
      { stream, clearOnComplete: false, hideCursor: true, autopadding: true, barsize: 24, format: "{label} {bar} {percentage}% {info}", forceRedraw: true },
      cliProgress.Presets.shades_grey,
    );
  }

  update(s: ProgressSnapshot): void {
    // The status is a line of text, not a bar: the bars below it are the progress.
    this.status ??= this.multi.create(1, 0, { label: "Status   ", info: "" }, { format: "{label} {info}" });
    this.status.update(0, { label: "Status   ", info: progressLine(s) });
    if (s.phase !== "transcribing") return;
    // Worker lanes first, the overall bar under them, as in the plan's panel.
    while (this.lanes.length < Math.max(s.workers.length, s.activeWorkers)) {
      const id = this.lanes.length;
      this.lanes.push(this.multi.create(100, 0, { label: `Worker ${String(id + 1).padStart(2)}`, info: "idle" }));
    }
    s.workers.slice(0, this.lanes.length).forEach((w, i) => {
      const info =
        w.state === "busy" || w.state === "retrying" ? `chunk ${(w.chunk ?? 0) + 1}/${s.chunks.total}${w.state === "retrying" ? " (retry)" : ""}` : w.state;
      this.lanes[i].update(percentDone(w.percent, 100), { label: `Worker ${String(i + 1).padStart(2)}`, info });
    });
    this.overall ??= this.multi.create(100, 0, { label: "Overall  ", info: "" });
    // One model drives every figure: audio seconds done (finished chunks plus running ones' share).
    this.overall.update(percentDone(s.audio.done, s.audio.total), {
      label: "Overall  ",
      info: `${s.chunks.done}/${s.chunks.total} chunks · ${s.activeWorkers} workers · ${s.speed.chunksPerMinute.toFixed(1)} chunks/min · ${s.speed.realtimeFactor.toFixed(1)}x · ETA ${formatDuration(s.etaSeconds)}`,
    });
    // What whisper is hearing now: text long before the chunk that holds it is done.
    const heard = heardLine(s);
    if (heard) {
      this.heard ??= this.multi.create(1, 0, { label: "Heard    ", info: "" }, { format: "{label} {info}" });
      this.heard.update(0, { label: "Heard    ", info: heard });
    }
  }

  stop(): void {
    this.multi.stop();
  }
}
