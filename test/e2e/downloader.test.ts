/**
 * The model downloader against a local HTTP server that serves files from ../shared with range
 * requests, and can cut a transfer short.
 */
import { createHash } from "node:crypto";
import { chmodSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { downloadModel, verifyModel } from "../../src/core/models/downloader";
import { sharedDir } from "../support/paths";

const served = join(sharedDir, "models", "synthetic-tiny.en.bin.gz");
const sha256 = createHash("sha256").update(readFileSync(served)).digest("hex");
const size = statSync(served).size;

let server: Server;
let base = "";
let cutAfter: number | undefined;
const ranges: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const file = join(sharedDir, "models", decodeURIComponent(req.url!.slice(1)));
    if (!file.startsWith(join(sharedDir, "models")) || !existsSync(file)) return void res.writeHead(404).end();
    const total = statSync(file).size;
    ranges.push(req.headers.range);
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? "");
    const start = m ? Number(m[1]) : 0;
    if (start >= total) return void res.writeHead(416, { "content-range": `bytes */${total}` }).end();
    res.writeHead(m ? 206 : 200, {
      "content-length": String(total - start),
      "accept-ranges": "bytes",
      ...(m ? { "content-range": `bytes ${start}-${total - 1}/${total}` } : {}),
    });
    const stream = createReadStream(file, { start });
    let sent = 0;
    stream.on("data", (chunk) => {
      sent += chunk.length;
      if (cutAfter !== undefined && sent >= cutAfter) {
        cutAfter = undefined;
        stream.destroy();
        res.socket?.destroy(); // the connection drops mid-transfer
        return;
      }
      res.write(chunk);
    });
    stream.on("end", () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("model downloader", () => {
  it("resumes an interrupted transfer with a range request and verifies SHA-256", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-dl-"));
    const dest = join(dir, "model.bin");
    cutAfter = 100_000;
    ranges.length = 0;
    const first = await downloadModel({ url: `${base}/synthetic-tiny.en.bin.gz`, dest, expected: { algorithm: "sha256", digest: sha256 } }).catch(
      (e: unknown) => e,
    );
    expect(first).toMatchObject({ code: "DOWNLOAD_FAILED", retryable: true });
    expect(existsSync(dest)).toBe(false);
    const partial = statSync(`${dest}.tmp`).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(size);

    const progress: number[] = [];
    const done = await downloadModel({
      url: `${base}/synthetic-tiny.en.bin.gz`,
      dest,
      expected: { algorithm: "sha256", digest: sha256 },
      onProgress: (b) => progress.push(b),
    });
    expect(ranges).toEqual([undefined, `bytes=${partial}-`]);
    expect(done).toMatchObject({ path: dest, bytes: size, sha256, resumed: true });
    expect(progress[0]).toBeGreaterThan(partial);
    expect(createHash("sha256").update(readFileSync(dest)).digest("hex")).toBe(sha256);
    expect(existsSync(`${dest}.tmp`)).toBe(false);
    expect(readFileSync(`${dest}.sha256`, "utf8")).toContain(sha256);
  });

  it("rejects a checksum mismatch and removes the partial file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-dl-"));
    const dest = join(dir, "model.bin");
    const error = await downloadModel({ url: `${base}/synthetic-tiny.en.bin.gz`, dest, expected: { algorithm: "sha256", digest: "0".repeat(64) } }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "CHECKSUM_MISMATCH" });
    expect(existsSync(`${dest}.tmp`)).toBe(false);
    expect(existsSync(dest)).toBe(false);
  });

  it("reports a missing file on the server", async () => {
    const dest = join(mkdtempSync(join(tmpdir(), "wf-dl-")), "m.bin");
    await expect(downloadModel({ url: `${base}/nope.bin`, dest })).rejects.toMatchObject({ code: "DOWNLOAD_FAILED" });
  });

  it("reports a full disk as DISK_FULL and keeps nothing half-written in place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-dl-"));
    const dest = join(dir, "model.bin");
    // The partial file is a link to /dev/full: every write fails with ENOSPC, as on a full disk.
    symlinkSync("/dev/full", `${dest}.tmp`);
    const error = await downloadModel({ url: `${base}/synthetic-tiny.en.bin.gz`, dest }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DISK_FULL" });
    expect((error as Error).message).toContain(dest);
    expect(existsSync(dest)).toBe(false);
  });

  it.skipIf(process.getuid?.() === 0)("reports a folder it may not write to as PERMISSION_DENIED (not testable as root)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-dl-"));
    chmodSync(dir, 0o555);
    const error = await downloadModel({ url: `${base}/synthetic-tiny.en.bin.gz`, dest: join(dir, "model.bin") }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PERMISSION_DENIED" });
  });

  it("verifies an installed model's magic and checksum", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-dl-"));
    mkdirSync(dir, { recursive: true });
    const notModel = join(dir, "x.bin");
    writeFileSync(notModel, "hello world");
    chmodSync(notModel, 0o644);
    expect(await verifyModel(notModel)).toMatchObject({ ok: false, reason: "not a ggml model file" });
  });
});
