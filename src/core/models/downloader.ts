/**
 * Model downloads: streamed to `<dest>.tmp`, resumed with a Range request after an interruption,
 * hashed while writing (SHA-256, plus SHA-1 for upstream's published checksums), renamed into
 * place only after the checksum matches. A mismatch removes the partial file; disk-full and
 * permission errors say so.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { abortError, FleetError } from "../errors";

export interface ExpectedDigest {
  /** sha512: npm's tarball integrity (hex here; see `integrityDigest`). */
  algorithm: "sha256" | "sha1" | "sha512";
  digest: string;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  expected?: ExpectedDigest;
  signal?: AbortSignal;
  onProgress?: (bytes: number, total: number | undefined) => void;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  resumed: boolean;
}

/** A file-system error while writing a download or installing it: disk full, no permission, or else failed. */
export function storageError(error: unknown, path: string, hint = "Choose a models folder you can write to."): FleetError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOSPC") return new FleetError("DISK_FULL", `The disk is full while writing ${path}.`, { cause: error });
  if (code === "EACCES" || code === "EPERM" || code === "EROFS")
    return new FleetError("PERMISSION_DENIED", `Cannot write ${path}: permission denied.`, { cause: error, hint });
  return new FleetError("DOWNLOAD_FAILED", `Writing ${path} failed: ${(error as Error).message}`, { cause: error });
}

async function hashExisting(path: string, hashes: Hash[]): Promise<number> {
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      for (const h of hashes) h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch {
    return 0;
  }
  return bytes;
}

export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, signal } = options;
  const tmp = `${dest}.tmp`;
  try {
    await mkdir(dirname(dest), { recursive: true });
  } catch (error) {
    throw storageError(error, dest);
  }
  const sha256 = createHash("sha256");
  const sha1 = createHash("sha1");
  const sha512 = createHash("sha512");
  let have = 0;
  try {
    have = (await stat(tmp)).size;
  } catch {
    have = 0;
  }
  let response: Response;
  try {
    response = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal });
  } catch (error) {
    if (signal?.aborted) throw abortError();
    throw new FleetError("DOWNLOAD_FAILED", `Could not download ${url}: ${(error as Error).message}`, {
      cause: error,
      retryable: true,
      hint: "Check the network connection and try again; the download resumes where it stopped.",
    });
  }
  if (response.status === 416) {
    // Range not satisfiable: the partial file is complete or stale; verify it as it is.
    have = await hashExisting(tmp, [sha256, sha1, sha512]);
  } else if (!response.ok || !response.body) {
    throw new FleetError("DOWNLOAD_FAILED", `Downloading ${url} failed with HTTP ${response.status}.`, { retryable: response.status >= 500 });
  } else {
    const resumed = response.status === 206;
    if (resumed) {
      have = await hashExisting(tmp, [sha256, sha1, sha512]);
    } else {
      have = 0;
    }
    const length = Number(response.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? length + (resumed ? have : 0) : undefined;
    let done = have;
    const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream);
    body.on("data", (chunk: Buffer) => {
      sha256.update(chunk);
      sha1.update(chunk);
      sha512.update(chunk);
      done += chunk.length;
      options.onProgress?.(done, total);
    });
    let out;
    try {
      out = createWriteStream(tmp, { flags: resumed ? "a" : "w" });
    } catch (error) {
      throw storageError(error, tmp);
    }
    try {
      await pipeline(body, out, { signal });
    } catch (error) {
      if (signal?.aborted) throw abortError();
      const code = (error as NodeJS.ErrnoException).code;
      if (code && /^E[A-Z]+$/.test(code) && code !== "ECONNRESET" && code !== "ETIMEDOUT") throw storageError(error, tmp);
      throw new FleetError("DOWNLOAD_FAILED", `The download of ${url} was interrupted at ${(done / 1e6).toFixed(1)} MB: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
        hint: "Run the download again; it resumes from the partial file.",
      });
    }
    have = done;
  }
  const digest256 = sha256.digest("hex");
  const digests = { sha256: digest256, sha1: sha1.digest("hex"), sha512: sha512.digest("hex") };
  if (options.expected) {
    const got = digests[options.expected.algorithm];
    if (got !== options.expected.digest.toLowerCase()) {
      await rm(tmp, { force: true });
      throw new FleetError(
        "CHECKSUM_MISMATCH",
        `The downloaded ${dest} does not match its ${options.expected.algorithm.toUpperCase()} checksum (expected ${options.expected.digest}, got ${got}); the partial file was removed.`,
        {
          hint: "Download it again; if it keeps failing the mirror may serve a different file.",
        },
      );
    }
  }
  try {
    await rename(tmp, dest);
    await writeFile(`${dest}.sha256`, `${digest256}  ${dest.split(/[\\/]/).pop()}\n`);
  } catch (error) {
    throw storageError(error, dest);
  }
  return { path: dest, bytes: have, sha256: digest256, resumed: have > 0 && response.status === 206 };
}

export interface VerifyResult {
  ok: boolean;
  sha256: string;
  reason?: string;
}

/** Re-hashes an installed model and checks its magic and, when known, its checksum. */
export async function verifyModel(path: string, expected?: ExpectedDigest): Promise<VerifyResult> {
  const hashes = { sha256: createHash("sha256"), sha1: createHash("sha1"), sha512: createHash("sha512") };
  await hashExisting(path, Object.values(hashes));
  const digest256 = hashes.sha256.digest("hex");
  const handle = await open(path, "r");
  const magic = Buffer.alloc(4);
  await handle.read(magic, 0, 4, 0);
  await handle.close();
  if (magic.readUInt32LE(0) !== 0x67676d6c) return { ok: false, sha256: digest256, reason: "not a ggml model file" };
  if (expected) {
    const got = expected.algorithm === "sha256" ? digest256 : hashes[expected.algorithm].digest("hex");
    if (got !== expected.digest.toLowerCase()) return { ok: false, sha256: digest256, reason: `${expected.algorithm} mismatch` };
  }
  return { ok: true, sha256: digest256 };
}
