import { copyFile, mkdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";

import { Action, ActionPanel, Color, confirmAlert, Form, Icon, Keyboard, List, showToast, Toast, useNavigation } from "@raycast/api";
import { showFailureToast, useForm, useLocalStorage } from "@raycast/utils";
import { useCallback, useEffect, useState } from "react";

import { MODEL_CATALOG, modelUrl, type CatalogModel } from "./core/models/catalog";
import { downloadModel, verifyModel } from "./core/models/downloader";
import { listInstalled, type InstalledModel } from "./core/models/modelStore";
import { toFleetError } from "./core/errors";
import { modelsDir } from "./raycast/folders";
import { DEFAULT_MODEL_KEY } from "./raycast/preferences";

export async function downloadWithToast(model: CatalogModel, dir = modelsDir()): Promise<boolean> {
  const controller = new AbortController();
  const toast = await showToast({
    style: Toast.Style.Animated,
    title: `Downloading ${model.name}`,
    message: "0%",
    primaryAction: { title: "Cancel", onAction: () => controller.abort() },
  });
  try {
    await downloadModel({
      url: modelUrl(model),
      dest: join(dir, model.file),
      expected: { algorithm: "sha1", digest: model.sha1 },
      signal: controller.signal,
      onProgress: (done, total) => {
        toast.message = total ? `${Math.floor((100 * done) / total)}% of ${Math.round(total / 1e6)} MB` : `${Math.round(done / 1e6)} MB`;
      },
    });
    toast.style = Toast.Style.Success;
    toast.title = `${model.name} is ready`;
    toast.message = "Checksum verified";
    return true;
  } catch (error) {
    const e = toFleetError(error);
    toast.style = Toast.Style.Failure;
    toast.title = e.code === "ABORTED" ? "Download paused" : `Could not download ${model.name}`;
    toast.message = e.code === "ABORTED" ? "Download again to resume where it stopped." : e.describe();
    return false;
  }
}

/** Asks, then removes the model file (and its checksum); the default is cleared if it was this one. */
async function deleteModel(title: string, path: string, clearDefault?: () => Promise<void>): Promise<boolean> {
  const message = `${basename(path)} will be removed from disk${clearDefault ? "; it is the default model" : ""}.`;
  if (!(await confirmAlert({ title: `Delete ${title}?`, message }))) return false;
  try {
    await rm(path, { force: true });
    await rm(`${path}.sha256`, { force: true });
    await clearDefault?.();
    await showToast({ style: Toast.Style.Success, title: `Deleted ${title}` });
  } catch (error) {
    await showFailureToast(error, { title: `Could not delete ${title}` });
  }
  return true;
}

export default function ManageModels() {
  const [installed, setInstalled] = useState<InstalledModel[]>([]);
  const { value: defaultModel, setValue: setDefaultModel, removeValue: clearDefaultModel } = useLocalStorage<string>(DEFAULT_MODEL_KEY);
  const refresh = useCallback(() => setInstalled(listInstalled(modelsDir())), []);
  useEffect(refresh, [refresh]);

  const byFile = new Map(installed.map((m) => [basename(m.path), m]));
  const imported = installed.filter((m) => !MODEL_CATALOG.some((c) => c.file === basename(m.path)));

  const item = (title: string, subtitle: string, path: string | undefined, catalog?: CatalogModel) => {
    const isDefault = path !== undefined && defaultModel === path;
    return (
      <List.Item
        key={catalog?.name ?? path}
        title={title}
        subtitle={subtitle}
        icon={path ? { source: Icon.CheckCircle, tintColor: Color.Green } : Icon.Download}
        accessories={[...(isDefault ? [{ tag: { value: "Default", color: Color.Blue } }] : []), { text: path ? "Installed" : "Not installed" }]}
        actions={
          <ActionPanel>
            {!path && catalog ? (
              <Action title="Download" icon={Icon.Download} onAction={async () => ((await downloadWithToast(catalog)) ? refresh() : undefined)} />
            ) : null}
            {path ? (
              <Action
                title="Set as Default"
                icon={Icon.Star}
                onAction={async () => {
                  await setDefaultModel(path);
                  await showToast({ style: Toast.Style.Success, title: `${title} is the default model` });
                }}
              />
            ) : null}
            {path ? <Action.ShowInFinder path={path} /> : null}
            <Action.Push title="Import Local Model…" icon={Icon.Upload} target={<ImportModel onImported={refresh} />} />
            {path ? (
              <Action
                title="Delete"
                icon={Icon.Trash}
                style={Action.Style.Destructive}
                shortcut={Keyboard.Shortcut.Common.Remove}
                onAction={async () => {
                  if (await deleteModel(title, path, isDefault ? clearDefaultModel : undefined)) refresh();
                }}
              />
            ) : null}
          </ActionPanel>
        }
      />
    );
  };

  return (
    <List searchBarPlaceholder="Whisper models">
      <List.Section title="Models" subtitle={modelsDir()}>
        {MODEL_CATALOG.map((m) =>
          item(
            m.name,
            `${m.diskMB >= 1000 ? `${(m.diskMB / 1000).toFixed(1)} GB` : `${m.diskMB} MB`} disk · ~${m.memoryMB} MB RAM · ${m.multilingual ? "multilingual" : "English"}${m.quantized ? " · quantized" : ""} · ${m.note}`,
            byFile.get(m.file)?.path,
            m,
          ),
        )}
      </List.Section>
      {imported.length ? <List.Section title="Imported">{imported.map((m) => item(m.name, `${Math.round(m.bytes / 1e6)} MB`, m.path))}</List.Section> : null}
    </List>
  );
}

function ImportModel({ onImported }: { onImported: () => void }) {
  const { pop } = useNavigation();
  const { handleSubmit, itemProps } = useForm<{ file: string[] }>({
    validation: {
      file: (value) => (value?.length ? undefined : "Choose a ggml model file (.bin)"),
    },
    async onSubmit(values) {
      const file = values.file[0];
      try {
        const check = await verifyModel(file);
        if (!check.ok) {
          await showToast({ style: Toast.Style.Failure, title: "Not a whisper.cpp model", message: `${basename(file)}: ${check.reason}` });
          return;
        }
        await mkdir(modelsDir(), { recursive: true });
        await copyFile(file, join(modelsDir(), basename(file)));
      } catch (error) {
        await showFailureToast(error, { title: `Could not import ${basename(file)}` });
        return;
      }
      await showToast({ style: Toast.Style.Success, title: `Imported ${basename(file)}` });
      onImported();
      pop();
    },
  });
  return (
    <Form
      actions={
        <ActionPanel>
          <Action.SubmitForm title="Import" onSubmit={handleSubmit} />
        </ActionPanel>
      }
    >
      <Form.FilePicker title="ggml model (.bin)" allowMultipleSelection={false} {...itemProps.file} />
    </Form>
  );
}
