/**
 * Decode options are checked here, once, before they cross into the addon (sharp's habit: one
 * checker, one message shape). The addon keeps type guards only; every range is policy and lives
 * in this table.
 */
import { invalidArgument } from "../core/errors";
import type { NativeDecodeOptions } from "./addonTypes";

type NumericOption = { [K in keyof NativeDecodeOptions]-?: NonNullable<NativeDecodeOptions[K]> extends number ? K : never }[keyof NativeDecodeOptions];

/** [min, max, whole numbers only] per numeric option. */
export const OPTION_RANGES: Record<NumericOption, [number, number, boolean]> = {
  threads: [1, 256, true],
  // -1 keeps whisper.cpp's default; larger values are capped at 224 by whisper.cpp itself.
  maxTextContext: [-1, 100_000, true],
  // whisper.cpp holds at most 8 decoders (WHISPER_MAX_DECODERS).
  beamSize: [0, 8, true],
  bestOf: [1, 8, true],
  temperature: [0, 1, false],
  temperatureIncrement: [0, 1, false],
  entropyThreshold: [0, 100, false],
  logprobThreshold: [-100, 0, false],
  noSpeechThreshold: [0, 1, false],
  maxSegmentLength: [0, 10_000, true],
  maxTokensPerSegment: [0, 10_000, true],
  vadThreshold: [0, 1, false],
  vadMinSpeechMs: [0, 60_000, true],
  vadMinSilenceMs: [0, 60_000, true],
  vadSpeechPadMs: [0, 10_000, true],
};

/** Throws INVALID_ARGUMENT ("Expected an integer from 1 to 256 for options.threads but received …"). */
export function checkDecodeOptions(options: NativeDecodeOptions): void {
  for (const [key, [min, max, integer]] of Object.entries(OPTION_RANGES) as [NumericOption, [number, number, boolean]][]) {
    const value: unknown = options[key];
    if (value === undefined) continue;
    const ok = typeof value === "number" && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
    if (!ok) throw invalidArgument(`${integer ? "an integer" : "a number"} from ${min} to ${max}`, `options.${key}`, value);
  }
}
