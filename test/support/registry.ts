/**
 * A loopback npm registry for tests: serves package tarballs at the registry's own tarball URLs
 * (<registry>/<name>/-/<basename>-<version>.tgz), with Range support, and scripted faults per
 * request: a connection cut halfway, a corrupted body, a missing package.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

import { PINS, type Pins } from "../../src/core/runtime/pins";
import { repoRoot } from "./paths";

export type RegistryFault = "cut" | "corrupt" | "missing";

export interface LoopbackRegistry {
  url: string;
  /** Paths requested, in order (with the Range header when one was sent). */
  requests: string[];
  /** Faults to apply to the next requests, in order; then requests are served normally. */
  faults: RegistryFault[];
  stop(): Promise<void>;
}

export interface RegistryPackage {
  name: string;
  version: string;
  tarball: Buffer;
}

export const tarballPath = (p: { name: string; version: string }) => `/${p.name}/-/${p.name.split("/").pop()}-${p.version}.tgz`;

export async function startRegistry(packages: RegistryPackage[]): Promise<LoopbackRegistry> {
  const byPath = new Map(packages.map((p) => [tarballPath(p), p.tarball]));
  const registry: LoopbackRegistry = { url: "", requests: [], faults: [], stop: async () => undefined };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    registry.requests.push(req.headers.range ? `${path} ${req.headers.range}` : path);
    const fault = registry.faults.shift();
    const body = byPath.get(path);
    if (!body || fault === "missing") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"Not found"}');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const from = range ? Number(range[1]) : 0;
    if (from >= body.length) {
      res.writeHead(416).end();
      return;
    }
    let payload = body.subarray(from);
    if (fault === "corrupt") {
      payload = Buffer.from(payload);
      for (let i = 100; i < payload.length; i += 4096) payload[i] ^= 0xff;
    }
    res.writeHead(range ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": String(payload.length),
      ...(range ? { "content-range": `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
    });
    if (fault === "cut") {
      res.write(payload.subarray(0, payload.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  registry.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  registry.stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return registry;
}

/** `npm pack` of a published package (from npm's cache or the registry): its tarball and integrity. */
export function packPublished(spec: string, dir: string): { tarball: Buffer; integrity: string; name: string; version: string } {
  const [info] = JSON.parse(
    execFileSync("npm", ["pack", spec, "--json", "--pack-destination", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
  );
  return { tarball: readFileSync(join(dir, info.filename)), integrity: info.integrity, name: info.name, version: info.version };
}

/**
 * The registry a store build on linux-x64 fetches from: ffmpeg exactly as published (its integrity
 * checked against pins.ts), and this checkout's engine packed by `npm run prebuild`, whose pin
 * lands in `<dir>/prebuild/pins.json` (for WHISPER_FLEET_RUNTIME_PINS).
 */
export async function startComponentRegistry(dir: string): Promise<{ registry: LoopbackRegistry; pins: Pins; pinsFile: string }> {
  const ffmpegPin = PINS.ffmpeg["linux-x64"]!;
  const ffmpeg = packPublished(`${ffmpegPin.package}@${ffmpegPin.version}`, dir);
  if (ffmpeg.integrity !== ffmpegPin.integrity) throw new Error(`${ffmpegPin.package}@${ffmpegPin.version} from npm is not the tarball pins.ts names`);
  const out = join(dir, "prebuild");
  execFileSync(process.execPath, [join(repoRoot, "scripts", "prebuild.mjs"), "--out", out], { stdio: "ignore" });
  const pinsFile = join(out, "pins.json");
  const enginePins = JSON.parse(readFileSync(pinsFile, "utf8")) as Pins;
  const engine = enginePins.engine["linux-x64"]!;
  const engineTgz = readdirSync(out).find((f) => f.endsWith(".tgz"))!;
  const registry = await startRegistry([
    { name: ffmpeg.name, version: ffmpeg.version, tarball: ffmpeg.tarball },
    { name: engine.package, version: engine.version, tarball: readFileSync(join(out, engineTgz)) },
  ]);
  return { registry, pins: { ffmpeg: { "linux-x64": ffmpegPin }, engine: enginePins.engine }, pinsFile };
}
