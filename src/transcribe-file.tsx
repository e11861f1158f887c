import { Action, ActionPanel, Form, getPreferenceValues, getSelectedFinderItems, useNavigation } from "@raycast/api";
import { FormValidation, useForm, usePromise } from "@raycast/utils";

import { listInstalled } from "./core/models/modelStore";
import { OUTPUT_FORMATS, type OutputFormat } from "./core/output/formats";
import { modelsDir } from "./raycast/folders";
import { currentConfigSource, type Preferences } from "./raycast/preferences";
import { TranscriptionView } from "./raycast/TranscriptionView";

export const LANGUAGES: [string, string][] = [
  ["auto", "Detect Automatically"],
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
  const installed = listInstalled(modelsDir());
  const { handleSubmit, itemProps, setValue, values } = useForm<TranscribeFormValues>({
    initialValues: { files: [], engine: prefs.engine, model: "default", language: prefs.language, translate: prefs.translate, format: prefs.outputFormat },
    validation: { files: FormValidation.Required },
    async onSubmit(submitted) {
      const source = await currentConfigSource();
      push(<TranscriptionView file={submitted.files[0]} source={source} overrides={overridesFrom(submitted)} format={submitted.format as OutputFormat} />);
    },
  });
  // The file selected in Finder, if any, prefills the picker (Finder not in front: it starts empty).
  usePromise(async () => (await getSelectedFinderItems().catch(() => []))[0]?.path, [], {
    onData: (path) => {
      if (path && !values.files?.length) setValue("files", [path]);
    },
  });

  return (
    <Form
      actions={
        <ActionPanel>
          <Action.SubmitForm title="Transcribe" onSubmit={handleSubmit} />
        </ActionPanel>
      }
    >
      <Form.FilePicker title="File" allowMultipleSelection={false} {...itemProps.files} />
      <Form.Dropdown title="Engine" {...itemProps.engine}>
        <Form.Dropdown.Item value="auto" title="Auto (Local, Else Cloud)" />
        <Form.Dropdown.Item value="local" title="Local (whisper.cpp)" />
        <Form.Dropdown.Item value="cloud" title="Cloud (OpenAI-Compatible)" />
      </Form.Dropdown>
      <Form.Dropdown title="Model" {...itemProps.model}>
        <Form.Dropdown.Item value="default" title="Default" />
        {installed.map((m) => (
          <Form.Dropdown.Item key={m.path} value={m.path} title={m.name} />
        ))}
      </Form.Dropdown>
      <Form.Dropdown title="Language" {...itemProps.language}>
        {LANGUAGES.map(([value, title]) => (
          <Form.Dropdown.Item key={value} value={value} title={title} />
        ))}
      </Form.Dropdown>
      <Form.Checkbox label="Translate to English" {...itemProps.translate} />
      <Form.Dropdown title="Output" {...itemProps.format}>
        {OUTPUT_FORMATS.map((f) => (
          <Form.Dropdown.Item key={f} value={f} title={f.toUpperCase()} />
        ))}
      </Form.Dropdown>
    </Form>
  );
}
