import { getPreferenceValues, getSelectedFinderItems, showToast, Toast } from "@raycast/api";

import { currentConfigSource, type Preferences } from "./raycast/preferences";
import { runQueue } from "./raycast/runQueue";

/** Transcribes the files selected in Finder, one after another, and copies the result. */
export default async function TranscribeSelectedFiles(): Promise<void> {
  let files: string[];
  try {
    files = (await getSelectedFinderItems()).map((item) => item.path);
  } catch {
    await showToast({
      style: Toast.Style.Failure,
      title: "Finder is not in front",
      message: "Select audio or video files in Finder, then run Transcribe Selected Files again.",
    });
    return;
  }
  if (files.length === 0) {
    await showToast({ style: Toast.Style.Failure, title: "Nothing selected in Finder", message: "Select one or more audio or video files first." });
    return;
  }
  await runQueue(files, await currentConfigSource(), getPreferenceValues<Preferences>());
}
