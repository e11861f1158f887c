import { describe, expect, it } from "vitest";

import { checkDecodeOptions, OPTION_RANGES } from "../../src/bindings/checkOptions";
import { FleetError } from "../../src/core/errors";

function codeAndMessage(options: Record<string, unknown>): [string, string] {
  try {
    checkDecodeOptions(options);
    return ["ok", ""];
  } catch (error) {
    expect(error).toBeInstanceOf(FleetError);
    return [(error as FleetError).code, (error as FleetError).message];
  }
}

describe("decode options: one checker before the addon", () => {
  it("accepts every range's ends and nothing outside, in one message shape", () => {
    for (const [key, [min, max, integer]] of Object.entries(OPTION_RANGES)) {
      expect(codeAndMessage({ [key]: min })[0]).toBe("ok");
      expect(codeAndMessage({ [key]: max })[0]).toBe("ok");
      const [code, message] = codeAndMessage({ [key]: max + 1 });
      expect(code).toBe("INVALID_ARGUMENT");
      expect(message).toBe(`Expected ${integer ? "an integer" : "a number"} from ${min} to ${max} for options.${key} but received ${max + 1} of type number`);
      expect(codeAndMessage({ [key]: min - 1 })[0]).toBe("INVALID_ARGUMENT");
      expect(codeAndMessage({ [key]: Number.NaN })[0]).toBe("INVALID_ARGUMENT");
      expect(codeAndMessage({ [key]: String(min) })[0]).toBe("INVALID_ARGUMENT");
      if (integer) expect(codeAndMessage({ [key]: min + 0.5 })[0]).toBe("INVALID_ARGUMENT");
    }
    expect(codeAndMessage({})[0]).toBe("ok");
  });
});
