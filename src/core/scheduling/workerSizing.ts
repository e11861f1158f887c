/**
 * How many workers a job gets (pure, deterministic), decided before the file is cut so the plan
 * can be shaped for them: the product plan's chunk-count rule (local CPU engines: at most one
 * worker per core and one per 30-second window of the file), then memory, then compute; on a
 * CPU, the layout (workers × threads) whose plan for this file is predicted to finish first, from
 * the throughput this machine measured per layout or a thread-scaling prior. Every clamp is
 * recorded so the front ends can say why.
 */
import { threadSpeedup, WINDOW_SECONDS } from "../planning/windowPlan";
import { cpuLayouts } from "./hillClimber";

export interface SizingInput {
  /** Chunks the file makes at the target chunk length (the plan's count rule). */
  chunks: number;
  /** Local engines: 30-second windows in the file; on a CPU they replace the count rule. */
  windows?: number;
  minWorkers: number;
  maxWorkers: number;
  engine: "local" | "cloud";
  /** Local engines: where the model runs. */
  backend?: "cpu" | "gpu";
  cores: number;
  /** Bytes the OS says are available now (systeminformation `mem.available`). */
  availableBytes?: number;
  /** Share of available memory the job may use (default MEMORY_SHARE). */
  memoryShare?: number;
  weightsBytes?: number;
  stateBytes?: number;
  /** Cloud engines: parallel requests the rate limiter allows. */
  cloudConcurrency?: number;
  /** Best worker count measured on this machine + model + engine in earlier jobs. */
  remembered?: number;
  /** Throughput earlier jobs measured per worker count (StatsStore `layouts`). */
  known?: Record<number, number>;
  /** Worker counts in `known` that no job measured lately (StatsStore `staleLayouts`). */
  stale?: number[];
  /** Worker counts in `known` whose figure one job alone took (StatsStore `measuredOnce`). */
  once?: number[];
  /**
   * Local CPU engines: the makespan of this file's plan cut for `workers` × `threads`, in windows of
   * one worker (planForWorkers). With it the layout is chosen by predicted wall time.
   */
  planCost?: (workers: number, threads: number) => number;
}

export interface SizingStep {
  rule: string;
  value: number;
  note: string;
}

export interface SizingDecision {
  workers: number;
  /** The most workers dynamic adjustment may try: MAX_WORKER, memory, and cores on the CPU backend. */
  ceiling: number;
  threadsPerWorker: number;
  steps: SizingStep[];
  /** Workers a naive design (a whole model per worker) could afford: shown for comparison. */
  wholeModelWorkers?: number;
  sharedModelWorkers?: number;
  explanation: string;
}

const GB = 1e9;
export const fmtGB = (b: number) => `${(b / GB).toFixed(2)} GB`;

/** The plan's table: <=2 chunks: 1 worker; <=5: 3; <=10: 5; more: max(chunks/2, 5). */
export function wishFromChunks(chunks: number): number {
  if (chunks <= 2) return 1;
  if (chunks <= 5) return 3;
  if (chunks <= 10) return 5;
  return Math.max(Math.ceil(chunks / 2), 5);
}

/**
 * On a CPU: at most one worker per core and one per 30-second window of the file; which layout
 * within that runs is the plan's pricing (fastestLayout). A worker with a single window is no
 * waste: on 1 minute, two one-window chunks on one thread each ran 5–7% sooner than both windows
 * on one worker with two threads (the decoder scales worst with threads), where three windows
 * price as one worker (two windows on one thread take longer than three on two).
 */
export function workersForWindows(cores: number, windows: number): number {
  return Math.max(1, Math.min(cores, Math.floor(windows)));
}

export function sizeWorkers(input: SizingInput): SizingDecision {
  const steps: SizingStep[] = [];
  const min = Math.max(1, Math.floor(input.minWorkers));
  const max = Math.max(min, Math.floor(input.maxWorkers));
  const cpu = input.engine === "local" && (input.backend ?? "cpu") === "cpu";
  let n: number;
  if (cpu && input.windows !== undefined) {
    // One worker per core runs whisper with 1 thread each, which beats fewer workers with more
    // threads (2 workers × 1 thread: 1.2x one worker × 2 threads on 2 cores).
    n = workersForWindows(input.cores, input.windows);
    steps.push({ rule: "windows", value: n, note: `${input.windows} window(s) of 30 s → at most ${n} worker(s), each with one or more` });
  } else {
    n = wishFromChunks(input.chunks);
    steps.push({ rule: "chunks", value: n, note: `${input.chunks} chunk(s) → wish ${n}` });
  }
  if (n < min || n > max) {
    n = Math.min(max, Math.max(min, n));
    steps.push({ rule: "limits", value: n, note: `clamped to MIN_WORKER..MAX_WORKER = ${min}..${max}` });
  }
  let wholeModelWorkers: number | undefined;
  let sharedModelWorkers: number | undefined;

  if (input.engine === "cloud") {
    const allowed = Math.max(1, Math.floor(input.cloudConcurrency ?? n));
    if (allowed < n) {
      n = allowed;
      steps.push({ rule: "rate-limit", value: n, note: `the rate limiter allows ${allowed} parallel request(s)` });
    }
  } else {
    const byPlan = cpu && input.planCost !== undefined;
    if (!byPlan && input.remembered && input.remembered >= min && input.remembered <= max && input.remembered !== n) {
      n = input.remembered;
      steps.push({ rule: "remembered", value: n, note: `best count measured earlier on this machine and model` });
    }
    // Not a neighbour with more workers than the file has windows for.
    let most = Math.max(1, Math.floor(input.windows ?? Infinity));
    const untried = () => (cpu && input.remembered ? untriedNeighbour(n, input.cores, min, max, input.known ?? {}, most) : undefined);
    // `priced`: predicted seconds per layout for this file, when there is a plan to price by.
    const explore = (value: number | undefined, priced?: Map<number, number>) => {
      if (value === undefined) return;
      // A job too short to try another layout itself still teaches the next one: each layout next
      // to the best known is measured once, by one whole job, then the best is kept — by a job
      // whose plan for it is predicted within EXPLORE_MARGIN of the best, so trying costs that much
      // at most (a 2-minute file on 2 × 1 runs 2.6 windows a worker where 1 × 2 runs 4 twice as
      // fast: 27% slower, a lesson a long file gives for free).
      const [tried, chosen] = [priced?.get(value), priced?.get(n)];
      const cost = tried !== undefined && chosen ? tried / chosen - 1 : undefined;
      if (cost !== undefined && cost > EXPLORE_MARGIN) {
        steps.push({
          rule: "explore-later",
          value: n,
          note: `${value} worker(s) never measured, but predicted ${(cost * 100).toFixed(0)}% slower on this file: not tried on it`,
        });
        return;
      }
      n = value;
      steps.push({ rule: "explore", value: n, note: `${n} worker(s) never measured on this machine and model: this job measures it` });
    };
    if (!byPlan) explore(untried());
    if (input.availableBytes && input.weightsBytes && input.stateBytes) {
      const share = input.memoryShare ?? MEMORY_SHARE;
      const budget = input.availableBytes * share;
      wholeModelWorkers = Math.max(0, Math.floor(budget / (input.weightsBytes + input.stateBytes)));
      sharedModelWorkers = statesMemoryHolds(input.availableBytes, input.weightsBytes, input.stateBytes, share);
      const note =
        `memory budget ${fmtGB(budget)} (${Math.round(share * 100)}% of ${fmtGB(input.availableBytes)} available): ` +
        `shared weights ${fmtGB(input.weightsBytes)} once + ${fmtGB(input.stateBytes)} per worker → up to ${sharedModelWorkers} ` +
        `(a whole model per worker would allow only ${wholeModelWorkers})`;
      if (sharedModelWorkers < n) {
        n = Math.max(1, sharedModelWorkers);
        steps.push({ rule: "memory", value: n, note });
      } else {
        steps.push({ rule: "memory", value: n, note: `${note}: no limit` });
      }
    }
    if ((input.backend ?? "cpu") === "cpu" && n > input.cores) {
      n = Math.max(1, input.cores);
      steps.push({ rule: "cores", value: n, note: `CPU backend: no more workers than ${input.cores} core(s)` });
    }
    if (byPlan) {
      // Stale figures that one job alone took: recheck may price them by the prior.
      const doubtful = (input.stale ?? []).filter((w) => input.once?.includes(w));
      const pick = fastestLayout(n, input.cores, min, input.known ?? {}, input.planCost!, doubtful);
      if (pick.workers !== n) n = pick.workers;
      steps.push({ rule: "plan", value: n, note: pick.note });
      most = Math.min(most, sharedModelWorkers ?? Infinity);
      const before = n;
      explore(untried(), pick.priced);
      if (n === before) {
        const again = recheck(n, pick.priced, pick.byPrior, input.stale ?? [], most);
        if (again) {
          n = again.workers;
          steps.push({ rule: "recheck", value: n, note: again.note });
        }
      }
    }
  }
  if (input.windows === undefined && n > input.chunks && input.chunks > 0) {
    n = Math.max(1, input.chunks);
    steps.push({ rule: "chunks-cap", value: n, note: `no more workers than chunks` });
  }
  if (n < min) {
    // Memory or cores win over MIN_WORKER: a slower job beats one that swaps or thrashes.
    steps.push({ rule: "below-min", value: n, note: `below MIN_WORKER=${min} because of the limits above` });
  }
  const threadsPerWorker = threadsFor(input.cores, n);
  let ceiling = max;
  if (sharedModelWorkers !== undefined) ceiling = Math.min(ceiling, Math.max(1, sharedModelWorkers));
  if (input.engine === "local" && (input.backend ?? "cpu") === "cpu") ceiling = Math.min(ceiling, Math.max(1, input.cores));
  if (input.engine === "cloud") ceiling = Math.min(ceiling, Math.max(1, Math.floor(input.cloudConcurrency ?? ceiling)));
  ceiling = Math.max(ceiling, n);
  const explanation = `${n} worker(s) × ${threadsPerWorker} thread(s): ` + steps.map((s) => s.note).join("; ");
  return { workers: n, ceiling, threadsPerWorker, steps, wholeModelWorkers, sharedModelWorkers, explanation };
}

/** Share of the available memory a job may use (the product plan's 70%). */
export const MEMORY_SHARE = 0.7;

/** Worker states that fit the memory budget next to one shared copy of the weights. */
export function statesMemoryHolds(availableBytes: number, weightsBytes: number, stateBytes: number, share = MEMORY_SHARE): number {
  return Math.max(0, Math.floor((availableBytes * share - weightsBytes) / stateBytes));
}

/**
 * What one worker state may take, before any exists to measure: the model's weights + 256 MiB.
 * A state is whisper.cpp's KV caches and compute buffers. They grow with the model's width and
 * depth as its weights do (more slowly), never with the weights' precision, plus a part every
 * model has: the decoder's buffer holds the logits of a whole text context (51,865 × 448 floats,
 * ~93 MB). Measured (test/native/engine.test.ts), with flash attention and without it (the encoder's
 * attention matrices too): tiny 139 / 184 MiB next to 74 MiB of weights, base 161 / 221 next to
 * 141, small 229 / 319 next to 464. The tightest cases are quantized models: a 5-bit tiny's states
 * are tiny's (at most 184 MiB) next to a 286 MiB bound; a 5-bit large-v3's, summed from their
 * parts, ~0.63 GiB next to 1.26. Only the decision to create states before one is measured rests
 * on it (FleetSession.size); the count is then checked again against the state measured.
 */
export function stateBytesBound(weightsBytes: number): number {
  return weightsBytes + 256 * 2 ** 20;
}

/**
 * How much faster a layout with more workers must be predicted to run, from figures earlier jobs
 * measured, before it is chosen: a near-tie keeps fewer workers (fewer seams, fewer states). It is
 * a bias, so it costs up to its own size whenever the layout with more workers really is faster:
 * at 8% (what the climber asks of a step inside a job) a taught data folder on the AMD 2-vCPU
 * machine ran 1 × 2 on 2 minutes in 8.9 s (three rounds) where its measured figures had 2 × 1 7%
 * faster — and 2 × 1 ran 8.4 s. Set against that, one job's figure for a layout moves by a few
 * percent with the VM's drift (on the Intel machine a 2 × 1 window took 3.63 s in one job, 3.77–4.29
 * s in others), and a wrong pick costs about the error that caused it: at 3% a 6.5-minute job's
 * optimistic 2 × 1 figure (5.7% faster) chose 2 × 1 for 8.5 minutes, which ran 1% slower than 1 × 2.
 */
export const LAYOUT_MARGIN = 0.04;

/**
 * How much slower than the chosen layout a never-measured one may be predicted on a file before
 * that file is not used to measure it: about what a prior can be off by (the 2-thread prior was
 * 1.92x where this machine measured 2.0–2.2x).
 */
export const EXPLORE_MARGIN = 0.05;

/**
 * How much slower than the chosen layout a layout with a stale figure may be predicted on a file
 * for that file to measure it again. The figure may be wrong by far more than that (one job on a
 * busy machine: 22% on the AMD machine); beyond it the file is not spent on finding out. A right
 * figure costs at most this much, on one job in RECHECK_JOBS at most.
 */
export const RECHECK_MARGIN = 0.1;

/**
 * A layout whose figure is stale and whose plan for this file is predicted within RECHECK_MARGIN
 * of the chosen one's (the closest such), to measure again on this job. One job on a busy stretch
 * can put a figure so low that its own prediction never comes within the margin, and the layout it
 * condemned would never run again (the AMD machine: a teaching job put 2 × 1 at 14.4 s of windows
 * per second where it runs ~20, and every later job ran 1 × 2, up to 22% slower). So where one job
 * alone took the figure, the layout is priced by the kinder of its figure and the thread-scaling
 * prior from the other layouts' figures. The prior alone is no help: on two cores it puts 2 × 1
 * within a few percent of 1 × 2, and the cut often costs 2 × 1 a window, so it rarely predicts it
 * faster. If the figure was right, this cost its gap once: measured by two jobs, the figures
 * alone decide from then on.
 */
function recheck(
  chosen: number,
  priced: Map<number, number>,
  byPrior: Map<number, number>,
  stale: number[],
  most: number,
): { workers: number; note: string } | undefined {
  const base = priced.get(chosen);
  if (!base) return undefined;
  const candidates = stale
    .filter((w) => w !== chosen && w <= most && priced.has(w))
    .map((w) => {
      const [figure, prior] = [priced.get(w)! / base - 1, (byPrior.get(w) ?? Infinity) / base - 1];
      return { w, cost: Math.min(figure, prior), byPrior: prior < figure };
    })
    .filter(({ cost }) => cost <= RECHECK_MARGIN)
    .sort((a, b) => a.cost - b.cost);
  const pick = candidates[0];
  if (!pick) return undefined;
  const by = pick.byPrior ? " by the thread-scaling prior (its own figure says slower)" : "";
  const gap = `${Math.round(Math.abs(pick.cost) * 100)}% ${pick.cost < 0 ? "faster" : "slower"}`;
  return {
    workers: pick.w,
    note: `${pick.w} worker(s) not measured lately (a stale figure) and predicted ${gap} on this file${by}: this job measures it again`,
  };
}

/**
 * Among the layouts that use every core with at most `most` workers, the one whose plan finishes
 * first: its makespan in one worker's windows times the seconds a window takes a worker of that
 * layout — measured by earlier jobs (pool throughput ÷ workers) or, for a layout never measured,
 * the prior `threadSpeedup` scaled to the measured ones. Once anything is measured, a layout with
 * more workers must be predicted faster by more than LAYOUT_MARGIN: fewer workers give the same
 * text with fewer seams to stitch and fewer whisper states in memory, and a closer call is inside
 * what one job's figure can tell. On the prior alone the faster plan runs (a tie keeps fewer).
 */
export function fastestLayout(
  most: number,
  cores: number,
  min: number,
  known: Record<number, number>,
  planCost: (workers: number, threads: number) => number,
  doubtful: number[] = [],
): { workers: number; note: string; priced: Map<number, number>; byPrior: Map<number, number> } {
  const layouts = cpuLayouts(cores, Math.min(min, most), most);
  const measured = Object.entries(known)
    .map(([w, throughput]) => ({ w: Number(w), throughput }))
    .filter(({ w, throughput }) => w >= 1 && throughput > 0 && Number.isFinite(throughput) && layouts.includes(w));
  // Seconds of one window on one thread, from the best-measured layout (1 when nothing is measured:
  // then only the ratios between layouts matter).
  const unitFrom = (list: typeof measured) =>
    Math.min(...list.map(({ w, throughput }) => ((WINDOW_SECONDS * w) / throughput) * threadSpeedup(threadsFor(cores, w))));
  const unit = measured.length ? unitFrom(measured) : 1;
  const windowSeconds = (w: number) => {
    const m = measured.find((x) => x.w === w);
    return m ? (WINDOW_SECONDS * w) / m.throughput : unit / threadSpeedup(threadsFor(cores, w));
  };
  const priced: { workers: number; time: number }[] = [];
  // A doubtful figure's layout also priced as if never measured, from the other layouts' figures (see recheck).
  const byPrior = new Map<number, number>();
  const parts: string[] = [];
  for (const w of [...layouts].sort((a, b) => b - a)) {
    const threads = threadsFor(cores, w);
    const windows = planCost(w, threads);
    const time = windows * windowSeconds(w);
    parts.push(`${w}×${threads}: ${windows.toFixed(1)} windows ≈ ${measured.length ? `${time.toFixed(0)} s` : `${time.toFixed(1)} one-thread windows`}`);
    priced.push({ workers: w, time });
    const others = doubtful.includes(w) ? measured.filter((m) => m.w !== w) : [];
    if (others.length) byPrior.set(w, windows * (unitFrom(others) / threadSpeedup(threads)));
  }
  const fastest = Math.min(...priced.map((p) => p.time));
  // The margin is for figures measured by one job each; the prior has none of their noise.
  const margin = measured.length ? LAYOUT_MARGIN : 0;
  const workers = Math.min(...priced.filter((p) => p.time <= fastest * (1 + margin) + 1e-9).map((p) => p.workers));
  const basis = measured.length ? `measured on this machine; fewer workers within ${LAYOUT_MARGIN * 100}%` : "thread-scaling prior";
  return {
    workers,
    note: `fastest plan (${basis}): ${parts.join(", ")} → ${workers} worker(s)`,
    priced: new Map(priced.map((p) => [p.workers, p.time])),
    byPrior,
  };
}

/**
 * The layout next to `workers` among those that use every core (more workers first, as the
 * hill-climber explores), with at most `most` workers, that no earlier job has measured, if any.
 */
function untriedNeighbour(workers: number, cores: number, min: number, max: number, known: Record<number, number>, most: number): number | undefined {
  const list = cpuLayouts(cores, min, max);
  const i = list.indexOf(workers);
  if (i < 0) return undefined;
  return [list[i + 1], list[i - 1]].find((w) => w !== undefined && w <= most && !(known[w] > 0));
}

/** Threads each running chunk may use so workers never oversubscribe the cores. */
export function threadsFor(cores: number, activeWorkers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, activeWorkers)));
}
