/**
 * Stitching measured with a real recognizer: PocketSphinx on the whole 20-minute LJ001 reading vs
 * the same recognizer behind Whisper Fleet's chunked cloud pipeline (decode → plan at pauses →
 * overlapped chunks on two servers → stitch). Synthetic whisper models say the same words whatever
 * the audio; this is the test that would see words lost or doubled at the cuts.
 *
 * Needs Debian's `pocketsphinx pocketsphinx-en-us` (.ci/run installs them); skipped elsewhere
 * unless WHISPER_FLEET_REQUIRE_SPHINX=1, which CI sets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { makeMedia } from "../support/audio";
import { lj001, speech } from "../support/paths";
import { referenceWords, score, transcribeThroughFleet, type QualityRun } from "../support/quality";
import { SPHINX_PACKAGES, sphinxAvailable, startSphinxServer, type SphinxServer } from "../support/sphinxServer";
import { resolveFfmpeg } from "../../src/core/media/ffmpeg";

const available = sphinxAvailable();
const required = process.env.WHISPER_FLEET_REQUIRE_SPHINX === "1";
if (!available && !required) console.warn(`PocketSphinx is not installed: the real-recognizer tests are skipped (install ${SPHINX_PACKAGES}).`);

const ffmpeg = () => resolveFfmpeg().path;
const servers: SphinxServer[] = [];
async function server(options: Partial<Parameters<typeof startSphinxServer>[0]> = {}) {
  const s = await startSphinxServer({ ffmpeg: ffmpeg(), ...options });
  servers.push(s);
  return s;
}

beforeAll(() => {
  if (!available) throw new Error(`PocketSphinx is required here (WHISPER_FLEET_REQUIRE_SPHINX=1): apt-get install ${SPHINX_PACKAGES}`);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe.skipIf(!available && !required)("chunked transcripts keep a real recognizer's words (LJ001, 20 min)", () => {
  const reference = referenceWords(speech("ljspeech", "longform", "LJ001_reference.txt"));
  let whole: QualityRun;
  let pair: SphinxServer[];

  beforeAll(async () => {
    // The baseline is one request for the whole file (two recognizer processes inside the server).
    const single = await server({ processesPerRequest: 2 });
    whole = await transcribeThroughFleet(lj001, [single], { CHUNK_SECONDS: "1500" });
    expect(whole.chunks).toBe(1);
    expect(single.requests).toHaveLength(1);
    expect(single.requests[0].seconds).toBeGreaterThan(1190);
    pair = [await server(), await server()];
  }, 900_000);

  it.each([30, 120])(
    "%i-second chunks: WER within 1.5 points of the whole file, no extra deletions, no words doubled at the cuts",
    async (seconds) => {
      const run = await transcribeThroughFleet(lj001, pair, { CHUNK_SECONDS: String(seconds) });
      expect(run.chunks).toBeGreaterThanOrEqual(Math.floor(1194 / seconds));
      const chunked = score(reference, run);
      const baseline = score(reference, whole, run.cuts);
      console.log(
        `LJ001 ${seconds} s chunks (${run.chunks}): WER ${chunked.wer.toFixed(2)}% vs whole ${baseline.wer.toFixed(2)}%; ` +
          `S/D/I ${chunked.substitutions}/${chunked.deletions}/${chunked.insertions} vs ${baseline.substitutions}/${baseline.deletions}/${baseline.insertions}; ` +
          `errors within 3 s of a cut ${chunked.nearCuts} vs ${baseline.nearCuts}; word runs doubled across a cut ${chunked.repeatsAtCuts}`,
      );
      expect(chunked.referenceWords).toBeGreaterThan(3000);
      expect(chunked.wer).toBeLessThanOrEqual(baseline.wer + 1.5);
      expect(chunked.deletions).toBeLessThanOrEqual(baseline.deletions + 0.005 * reference.length);
      expect(chunked.repeatsAtCuts).toBe(0);
    },
    900_000,
  );
});

describe.skipIf(!available && !required)("real recognition paths the synthetic models cannot exercise", () => {
  const twoMinutes = () => makeMedia("lj001-120s.flac", ["-i", lj001, "-t", "120"]);

  it("text-only models (gpt-4o style, no times) are cut at quiet points without overlap, so no words are doubled", async () => {
    const servers = [await server(), await server()];
    const run = await transcribeThroughFleet(twoMinutes(), servers, { CHUNK_SECONDS: "30", WHISPER_FLEET_CLOUD_MODEL: "gpt-4o-transcribe" });
    expect(run.chunks).toBe(4);
    expect(servers.flatMap((s) => s.requests).every((r) => r.responseFormat === "json")).toBe(true);
    const chunks = run.transcript.metrics!.chunks;
    // The audio sent is the file, once: no overlap to align without times.
    expect(chunks.reduce((n, c) => n + (c.end - c.start), 0)).toBeCloseTo(120, 0);
    // Every word the recognizer said is in the transcript once: none dropped, none doubled.
    const said = servers.flatMap((s) => s.requests).reduce((n, r) => n + r.text.split(" ").filter(Boolean).length, 0);
    expect(run.words.length).toBe(said);
  }, 300_000);

  it("sequential cloud chunks carry the previous chunk's words as the prompt and lock the detected language", async () => {
    const one = await server();
    const run = await transcribeThroughFleet(twoMinutes(), [one], { CHUNK_SECONDS: "30", WHISPER_FLEET_LANGUAGE: "auto" });
    expect(run.chunks).toBe(4);
    expect(one.requests).toHaveLength(4);
    // The first request knows nothing; every later one names the language the first detected...
    expect(one.requests[0].language).toBeUndefined();
    expect(one.requests[0].prompt).toBeUndefined();
    for (const r of one.requests.slice(1)) expect(r.language).toBe("en");
    // ...and its prompt is the end of what the server answered for the chunk before it.
    for (let k = 1; k < 4; k++) {
      const prompt = one.requests[k].prompt ?? "";
      expect(prompt.split(" ").length).toBeGreaterThan(5);
      expect(one.requests[k - 1].text.endsWith(prompt)).toBe(true);
    }
  }, 300_000);
});
