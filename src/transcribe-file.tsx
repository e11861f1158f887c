import { Action, ActionPanel, Form, getPreferenceValues, getSelectedFinderItems, showToast, Toast, useNavigation } from "@raycast/api";
import { useEffect, useState } from "react";

import { listInstalled } from "./core/models/modelStore";
import { OUTPUT_FORMATS, type OutputFormat } from "./core/output/formats";
import { modelsDir } from "./raycast/engine";
import { currentConfigSource, type Preferences } from "./raycast/preferences";
import { TranscriptionView } from "./raycast/TranscriptionView";

export const LANGUAGES: [string, string][] = [
  ["auto", "Detect automatically"],
  ["ko", "Korean"],
  ["en", "English"],
  ["ja", "Japanese"],
  ["zh", "Chinese"],
  ["es", "Spanish"],
  ["de", "German"],
  ["fr", "French"],
];

export interface TranscribeFormValues {
  files: string[];
  engine: string;
  model: string;
  language: string;
  translate: boolean;
  format: string;
}

/** Form values → the per-run overrides the core accepts ("default" keeps the preference). */
export function overridesFrom(values: TranscribeFormValues): Record<string, unknown> {
  const o: Record<string, unknown> = { engine: values.engine, language: values.language, translate: values.translate };
  if (values.model && values.model !== "default") o.model = values.model;
  return o;
}

export default function TranscribeFile() {
  const prefs = getPreferenceValues<Preferences>();
  const { push } = useNavigation();
  const [files, setFiles] = useState<string[]>([]);
  const installed = listInstalled(modelsDir());

  useEffect(() => {
    getSelectedFinderItems()
      .then((items) => items.length && setFiles((current) => (current.length ? current : [items[0].path])))
      .catch(() => undefined); // Finder not in front: the picker starts empty
  }, []);

  async function submit(values: TranscribeFormValues) {
    const file = values.files?.[0];
    if (!file) {
      await showToast({ style: Toast.Style.Failure, title: "Choose a file", message: "Pick an audio or video file to transcribe." });
      return;
    }
    const source = await currentConfigSource();
    push(<TranscriptionView file={file} source={source} overrides={overridesFrom(values)} format={values.format as OutputFormat} />);
  }

  return (
    <Form
      actions={
        <ActionPanel>
          <Action.SubmitForm title="Transcribe" onSubmit={submit} />
        </ActionPanel>
      }
    >
      <Form.FilePicker id="files" title="File" allowMultipleSelection={false} value={files} onChange={setFiles} />
      <Form.Dropdown id="engine" title="Engine" defaultValue={prefs.engine}>
        <Form.Dropdown.Item value="auto" title="Auto (local, else cloud)" />
        <Form.Dropdown.Item value="local" title="Local (whisper.cpp)" />
        <Form.Dropdown.Item value="cloud" title="Cloud (OpenAI-compatible)" />
      </Form.Dropdown>
      <Form.Dropdown id="model" title="Model" defaultValue="default">
        <Form.Dropdown.Item value="default" title="Default" />
        {installed.map((m) => (
          <Form.Dropdown.Item key={m.path} value={m.path} title={m.name} />
        ))}
      </Form.Dropdown>
      <Form.Dropdown id="language" title="Language" defaultValue={prefs.language}>
        {LANGUAGES.map(([value, title]) => (
          <Form.Dropdown.Item key={value} value={value} title={title} />
        ))}
      </Form.Dropdown>
      <Form.Checkbox id="translate" label="Translate to English" defaultValue={prefs.translate} />
      <Form.Dropdown id="format" title="Output" defaultValue={prefs.outputFormat}>
        {OUTPUT_FORMATS.map((f) => (
          <Form.Dropdown.Item key={f} value={f} title={f.toUpperCase()} />
        ))}
      </Form.Dropdown>
    </Form>
  );
}
