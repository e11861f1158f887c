/**
 * Runtime components (the native engine, ffmpeg) fetched on first use, the way sharp and
 * node-llama-cpp deliver their binaries: the pinned npm tarball is streamed to a temporary file,
 * its sha512 checked against the integrity written in pins.ts, extracted into a fresh folder and
 * renamed into place. A folder without its `.integrity` stamp is never used, so a cut connection,
 * a wrong hash or a full disk leaves nothing half-installed; a partial download resumes.
 */
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { x as extractTar } from "tar";

import { FleetError } from "../errors";
import { downloadModel, storageError } from "../models/downloader";
import { dataPaths } from "../paths";
import { COMPONENT_NAMES, PINS, type ComponentId, type ComponentPin, type Pins } from "./pins";

export const DEFAULT_REGISTRY = "https://registry.npmjs.org";

export interface ComponentOptions {
  /** Where components live: Raycast's supportPath/runtime, the CLI's data folder/runtime. */
  dir?: string;
  /** npm registry base URL (WHISPER_FLEET_REGISTRY; tests use a loopback one). */
  registry?: string;
  /** The pins in force (default: pins.ts, merged with the JSON file WHISPER_FLEET_RUNTIME_PINS names). */
  pins?: Pins;
  /** platform-arch, default this machine's. */
  platformArch?: string;
}

export interface EnsureOptions extends ComponentOptions {
  signal?: AbortSignal;
  onProgress?: (bytes: number, total: number | undefined) => void;
}

/** pins.ts, with the entries of the JSON file WHISPER_FLEET_RUNTIME_PINS names laid over it. */
export function loadPins(env: NodeJS.ProcessEnv = process.env): Pins {
  const file = env.WHISPER_FLEET_RUNTIME_PINS;
  if (!file) return PINS;
  let extra: Partial<Pins>;
  try {
    extra = JSON.parse(readFileSync(file, "utf8")) as Partial<Pins>;
  } catch (error) {
    throw new FleetError("CONFIG_INVALID", `WHISPER_FLEET_RUNTIME_PINS names ${file}, which is not a readable JSON file: ${(error as Error).message}`);
  }
  return { ffmpeg: { ...PINS.ffmpeg, ...extra.ffmpeg }, engine: { ...PINS.engine, ...extra.engine } };
}

const here = () => `${process.platform}-${process.arch}`;

export function componentPin(id: ComponentId, options: ComponentOptions = {}): ComponentPin | undefined {
  return (options.pins ?? loadPins())[id][options.platformArch ?? here()];
}

/** The registry's tarball URL: <registry>/<name>/-/<basename>-<version>.tgz. */
export function tarballUrl(pin: ComponentPin, registry = process.env.WHISPER_FLEET_REGISTRY || DEFAULT_REGISTRY): string {
  const base = pin.package.split("/").pop()!;
  return `${registry.replace(/\/+$/, "")}/${pin.package}/-/${base}-${pin.version}.tgz`;
}

/** sha512-<base64> → hex, as the downloader compares digests. */
export function integrityHex(integrity: string): string {
  const m = /^sha512-([A-Za-z0-9+/=]+)$/.exec(integrity.trim());
  if (!m) throw new FleetError("CONFIG_INVALID", `"${integrity}" is not an npm sha512 integrity string.`);
  return Buffer.from(m[1], "base64").toString("hex");
}

const folderName = (pin: ComponentPin) => `${pin.package.replace(/^@/, "").replace("/", "+")}@${pin.version}`;
const rootOf = (options: ComponentOptions) => options.dir ?? dataPaths.runtime();
export const componentFolder = (id: ComponentId, pin: ComponentPin, options: ComponentOptions = {}) => join(rootOf(options), id, folderName(pin));

/** The component's file if it is fully installed for its pin (integrity stamp present and equal). */
export function installedComponent(id: ComponentId, options: ComponentOptions = {}): string | undefined {
  let pin: ComponentPin | undefined;
  try {
    pin = componentPin(id, options);
  } catch {
    return undefined;
  }
  if (!pin) return undefined;
  const folder = componentFolder(id, pin, options);
  try {
    if (readFileSync(join(folder, ".integrity"), "utf8").trim() !== pin.integrity) return undefined;
  } catch {
    return undefined;
  }
  const main = join(folder, pin.main);
  return existsSync(main) ? main : undefined;
}

/** Installs the pinned component unless it is there already; returns the path of its file. */
export async function ensureComponent(id: ComponentId, options: EnsureOptions = {}): Promise<string> {
  const existing = installedComponent(id, options);
  if (existing) return existing;
  const platformArch = options.platformArch ?? here();
  const pin = componentPin(id, options);
  if (!pin)
    throw new FleetError(
      "COMPONENT_UNAVAILABLE",
      `No prebuilt build of ${COMPONENT_NAMES[id]} is published for ${platformArch} in this version of Whisper Fleet.`,
      {
        hint:
          id === "engine"
            ? "Use the cloud engine, or build from source (`npm ci && npm run build`)."
            : "Install ffmpeg (`brew install ffmpeg`) or set its path in preferences.",
      },
    );
  const root = rootOf(options);
  const folder = componentFolder(id, pin, options);
  const tarball = join(root, ".downloads", `${folderName(pin)}.tgz`);
  // Verified while it streams; a mismatch removes it (CHECKSUM_MISMATCH), a cut connection keeps
  // the partial file for the next try (DOWNLOAD_FAILED, resumed with a Range request). The
  // downloader makes the folder and turns disk and permission errors into coded ones.
  await downloadModel({
    url: tarballUrl(pin, options.registry),
    dest: tarball,
    expected: { algorithm: "sha512", digest: integrityHex(pin.integrity) },
    signal: options.signal,
    onProgress: options.onProgress,
  });
  let incoming: string | undefined;
  try {
    await mkdir(join(root, id), { recursive: true });
    incoming = await mkdtemp(join(root, id, ".incoming-"));
    try {
      await extractTar({ file: tarball, cwd: incoming, strip: 1, strict: true });
    } catch (error) {
      throw new FleetError("COMPONENT_INVALID", `The ${pin.package}@${pin.version} package could not be unpacked: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
      });
    }
    const main = join(incoming, pin.main);
    if (!existsSync(main))
      throw new FleetError("COMPONENT_INVALID", `The ${pin.package}@${pin.version} package has no ${pin.main}.`, {
        hint: "The pinned package is not what Whisper Fleet expects; update Whisper Fleet.",
      });
    await chmod(main, 0o755);
    await writeFile(join(incoming, ".integrity"), `${pin.integrity}\n`);
    // A folder from an older, different tarball of the same name goes first; the rename is the install.
    await rm(folder, { recursive: true, force: true });
    await rename(incoming, folder);
    incoming = undefined;
    return join(folder, pin.main);
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw storageError(error, folder, "Free some disk space, or check that the support folder is writable.");
  } finally {
    if (incoming) await rm(incoming, { recursive: true, force: true }).catch(() => undefined);
    await rm(tarball, { force: true }).catch(() => undefined);
    await rm(`${tarball}.sha256`, { force: true }).catch(() => undefined);
  }
}
