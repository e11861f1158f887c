/** Helpers the benchmarks share: the whole-process-tree RSS sampler and the side-by-side runner. */
import { execFileSync, spawn } from "node:child_process";

/** Sum of RSS over a process and all its descendants, in bytes. */
export function treeRss(pid) {
  let table;
  try {
    table = execFileSync("ps", ["-A", "-o", "pid=,ppid=,rss="]).toString();
  } catch {
    return 0;
  }
  const rows = table.trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
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

/** Runs commands at once (one per process), returns wall ms and peak tree RSS. */
export async function measure(commands, env = process.env) {
  const started = performance.now();
  let peak = 0;
  const children = commands.map(([cmd, a]) => spawn(cmd, a, { stdio: ["ignore", "ignore", "pipe"], env }));
  const errors = children.map(() => "");
  children.forEach((c, i) => c.stderr.on("data", (d) => (errors[i] = (errors[i] + d).slice(-3000))));
  const sampler = setInterval(() => {
    peak = Math.max(peak, children.reduce((n, c) => n + (c.exitCode === null ? treeRss(c.pid) : 0), 0));
  }, 100);
  const codes = await Promise.all(children.map((c) => new Promise((r) => c.on("close", r))));
  clearInterval(sampler);
  const wallMs = performance.now() - started;
  codes.forEach((code, i) => {
    if (code !== 0) throw new Error(`${commands[i][0]} exited ${code}: ${errors[i]}`);
  });
  return { wallMs, peakRss: peak };
}

