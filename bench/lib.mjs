/** Helpers the benchmarks share: the whole-process-tree RSS sampler and the side-by-side runner. */
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * Peak resident memory of a process and its descendants so far, in bytes. On Linux: the kernel's
 * high-water mark (VmHWM) of each process, read from /proc, so sampling spawns nothing and misses
 * no peak between samples. Spawning `ps` every 100 ms (how this sampled before) cost ~4 ms of CPU a
 * time, taken from the job being measured — and a job whose threads meet at every graph node (one
 * worker on two threads) loses more to a stolen slice than independent workers do. Elsewhere `ps`
 * (current RSS), once a second.
 */
export function treeRss(pid) {
  if (process.platform === "linux") return procPeak(pid);
  let table;
  try {
    table = execFileSync("ps", ["-A", "-o", "pid=,ppid=,rss="]).toString();
  } catch {
    return 0;
  }
  const rows = table
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number));
  const children = new Map();
  for (const [p, pp] of rows) children.set(pp, [...(children.get(pp) ?? []), p]);
  const rss = new Map(rows.map(([p, , r]) => [p, r * 1024]));
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

function procPeak(pid) {
  let total = 0;
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    total += kb ? Number(kb[1]) * 1024 : 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) total += procPeak(Number(child));
    }
  } catch {
    // the process ended between listing and reading
  }
  return total;
}

export async function measure(commands, env = process.env) {
  const started = performance.now();
  let peak = 0;
  const children = commands.map(([cmd, a]) => spawn(cmd, a, { stdio: ["ignore", "ignore", "pipe"], env }));
  const errors = children.map(() => "");
  children.forEach((c, i) => c.stderr.on("data", (d) => (errors[i] = (errors[i] + d).slice(-3000))));
  const sampler = setInterval(
    () => {
      peak = Math.max(
        peak,
        children.reduce((n, c) => n + (c.exitCode === null ? treeRss(c.pid) : 0), 0),
      );
    },
    process.platform === "linux" ? 250 : 1000,
  );
  const codes = await Promise.all(children.map((c) => new Promise((r) => c.on("close", r))));
  clearInterval(sampler);
  const wallMs = performance.now() - started;
  codes.forEach((code, i) => {
    if (code !== 0) throw new Error(`${commands[i][0]} exited ${code}: ${errors[i]}`);
  });
  return { wallMs, peakRss: peak };
}
