import { basename } from "node:path";

import { toMarkdown } from "../core/output/formats";
import type { Transcript } from "../core/types";

/** The transcript as Detail markdown (timestamped paragraphs, gaps marked). */
export function transcriptMarkdown(t: Transcript): string {
  return toMarkdown(t, { timestamps: true }) || `# ${basename(t.source.path)}\n\n*No speech found.*`;
}
