/** Finding installed models: an explicit path, a catalog name in the models folder, or the first one installed. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

import { FleetError } from "../errors";
import { catalogModel, MODEL_CATALOG } from "./catalog";

export interface InstalledModel {
  name: string;
  path: string;
  bytes: number;
}

export function listInstalled(modelsDir: string): InstalledModel[] {
  let names: string[];
  try {
    names = readdirSync(modelsDir);
  } catch {
    return [];
  }
  const order = (file: string) => {
    const i = MODEL_CATALOG.findIndex((m) => m.file === file);
    return i < 0 ? MODEL_CATALOG.length : i;
  };
  return names
    .filter((n) => n.endsWith(".bin") && !n.startsWith("."))
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .map((file) => {
      const path = join(modelsDir, file);
      return { name: file.replace(/^ggml-/, "").replace(/\.bin$/, ""), path, bytes: statSync(path).size };
    });
}

/** Resolves the configured model to a file, or says exactly how to get one. */
export function resolveModelPath(model: string | undefined, modelsDir: string): string {
  if (model) {
    const asPath = isAbsolute(model) || model.includes("/") || model.endsWith(".bin") ? resolve(model) : undefined;
    if (asPath && existsSync(asPath)) return asPath;
    const entry = catalogModel(model);
    const inDir = join(modelsDir, entry ? entry.file : model.endsWith(".bin") ? model : `ggml-${model}.bin`);
    if (existsSync(inDir)) return inDir;
    throw new FleetError("MODEL_NOT_FOUND", `Model "${model}" is not installed (looked for ${asPath ?? inDir}).`, {
      hint: entry
        ? `Download it with \`whisper-fleet models download ${entry.name}\` or in Manage Models.`
        : "Give a path to a ggml model file or a catalog name such as base.en.",
    });
  }
  const installed = listInstalled(modelsDir);
  if (installed.length) return installed[0].path;
  throw new FleetError("MODEL_NOT_FOUND", `No Whisper model is installed in ${modelsDir}.`, {
    hint: "Download one with `whisper-fleet models download base.en` (English) or `base` (multilingual), or pass --model PATH.",
  });
}
