/**
 * First use of a store build: what it ships is JavaScript only, so ffmpeg (unless the user has one)
 * and the native engine (unless the job is cloud-only) are fetched into supportPath/runtime from
 * their pinned npm tarballs, under one progress toast (core/runtime does the work).
 */
import { existsSync } from "node:fs";

import { environment, showToast, Toast } from "@raycast/api";

import { builtAddonIn } from "../bindings/loadAddon";
import type { ConfigSource } from "../core/config";
import { FleetError } from "../core/errors";
import { resolveFfmpeg } from "../core/media/ffmpeg";
import { componentPin, ensureComponent, installedComponent, type ComponentOptions } from "../core/runtime/components";
import { COMPONENT_NAMES, type ComponentId } from "../core/runtime/pins";
import { runtimeDir } from "./folders";

export const runtimeOptions = (): ComponentOptions => ({ dir: runtimeDir() });

/** The engine a source build made (npm run build) sits in assets/native; a store build has none. */
function hasBuiltEngine(): boolean {
  return existsSync(builtAddonIn(environment.assetsPath));
}

/** Which components this job needs fetched first. */
export function missingComponents(source: ConfigSource, env: NodeJS.ProcessEnv, engine = String(source.WHISPER_FLEET_ENGINE ?? "auto")): ComponentId[] {
  const options = runtimeOptions();
  const missing: ComponentId[] = [];
  const explicit = typeof source.FFMPEG_PATH_OVERRIDE === "string" && source.FFMPEG_PATH_OVERRIDE ? source.FFMPEG_PATH_OVERRIDE : undefined;
  if (!explicit) {
    try {
      resolveFfmpeg({ env, downloadedPath: () => installedComponent("ffmpeg", options) });
    } catch {
      missing.push("ffmpeg");
    }
  }
  // A platform without a published engine simply has no local engine: "auto" goes to the cloud.
  if (engine !== "cloud" && !hasBuiltEngine() && !installedComponent("engine", options) && componentPin("engine", options)) missing.push("engine");
  return missing;
}

/**
 * Fetches what is missing under one toast (the job's own when it has one, else a new one); throws
 * the coded error of the first failure.
 */
export async function ensureRuntime(source: ConfigSource, env: NodeJS.ProcessEnv, signal?: AbortSignal, engine?: string, jobToast?: Toast): Promise<void> {
  const missing = missingComponents(source, env, engine);
  if (!missing.length) return;
  const options = runtimeOptions();
  const megabytes = missing.reduce((n, id) => n + (componentPin(id, options)?.megabytes ?? 0), 0);
  const title = `Downloading ${missing.map((id) => COMPONENT_NAMES[id]).join(" and ")}`;
  const message = `About ${megabytes} MB, once`;
  const toast = jobToast ?? (await showToast({ style: Toast.Style.Animated, title, message }));
  const before = { title: toast.title, message: toast.message };
  Object.assign(toast, { title, message });
  const done = async () => (jobToast ? Object.assign(toast, before) : await toast.hide());
  try {
    for (const id of missing) {
      await ensureComponent(id, {
        ...options,
        signal,
        onProgress: (bytes, total) => {
          toast.message = `${COMPONENT_NAMES[id]}: ${(bytes / 1e6).toFixed(0)}${total ? ` of ${(total / 1e6).toFixed(0)}` : ""} MB`;
        },
      });
    }
    await done();
  } catch (error) {
    await done();
    if (error instanceof FleetError && error.code === "COMPONENT_UNAVAILABLE" && engine !== "local") return;
    throw error;
  }
}
