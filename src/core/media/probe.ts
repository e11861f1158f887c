/** File checks and an ffmpeg probe (ffprobe is not shipped with the bundled ffmpeg). */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";

import { FleetError } from "../errors";
import { runFfmpeg, stderrTail } from "./ffmpeg";

export interface StreamInfo {
  index: number;
  type: "audio" | "video" | "subtitle" | "data";
  codec: string;
  sampleRate?: number;
  channels?: string;
}

export interface ProbeResult {
  path: string;
  bytes: number;
  /** Seconds; undefined when the container does not say. */
  duration?: number;
  format?: string;
  streams: StreamInfo[];
  audio?: StreamInfo;
}

/** Fails with a coded error for a path that cannot be media at all, before ffmpeg runs. */
export async function checkInputFile(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES") throw new FleetError("FILE_UNREADABLE", `${path} cannot be read: permission denied.`, { hint: "Check the file's permissions." });
    throw new FleetError("FILE_NOT_FOUND", `${path} does not exist.`, { hint: "Check the path; it may have been moved or renamed." });
  }
  if (info.isDirectory())
    throw new FleetError("FILE_IS_DIRECTORY", `${path} is a folder, not a media file.`, { hint: "Choose an audio or video file inside it." });
  if (info.size === 0)
    throw new FleetError("FILE_EMPTY", `${path} is empty (0 bytes).`, { hint: "The recording may not have been saved; choose another file." });
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new FleetError("FILE_UNREADABLE", `${path} cannot be read: permission denied.`, { hint: "Check the file's permissions." });
  }
  return info.size;
}

export function parseProbe(path: string, bytes: number, stderr: string): ProbeResult {
  const result: ProbeResult = { path, bytes, streams: [] };
  const input = /Input #0, ([^,]+(?:,[^,]+)*?), from/.exec(stderr);
  if (input) result.format = input[1];
  const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  if (duration) result.duration = Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
  const streamRe = /Stream #0:(\d+)[^:]*: (Audio|Video|Subtitle|Data): ([^\n]*)/g;
  for (const m of stderr.matchAll(streamRe)) {
    const details = m[3];
    const stream: StreamInfo = {
      index: Number(m[1]),
      type: m[2].toLowerCase() as StreamInfo["type"],
      codec: details.split(/[\s,(]/)[0],
    };
    if (stream.type === "audio") {
      const rate = /(\d+) Hz/.exec(details);
      if (rate) stream.sampleRate = Number(rate[1]);
      const channels = /Hz, ([^,]+)/.exec(details);
      if (channels) stream.channels = channels[1].trim();
    }
    result.streams.push(stream);
  }
  result.audio = result.streams.find((s) => s.type === "audio");
  return result;
}

export async function probeMedia(ffmpeg: string, path: string, signal?: AbortSignal): Promise<ProbeResult> {
  const bytes = await checkInputFile(path);
  const { stderr } = await runFfmpeg(ffmpeg, ["-hide_banner", "-nostdin", "-i", path], signal);
  if (!/Input #0/.test(stderr)) {
    throw new FleetError("NOT_MEDIA", `${path} is not an audio or video file ffmpeg can read (${stderrTail(stderr, 1)}).`);
  }
  const result = parseProbe(path, bytes, stderr);
  if (!result.audio) {
    const what = result.streams.some((s) => s.type === "video") ? "video without an audio track" : "a file without audio";
    throw new FleetError("NO_AUDIO_STREAM", `${path} is ${what}; there is nothing to transcribe.`);
  }
  return result;
}
