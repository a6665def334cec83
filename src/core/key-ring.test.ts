import { describe, expect, it, vi } from "vitest";
import { createKeyRing } from "./key-ring";

// The masking guarantee (whole keys as their masked form, any 12+ character run of a key
// as `…`), and that junk too short to be a key never rewrites ordinary text.

const KEY_A = "AIzaSyD4r9Kq2LmX7vB1nT8pW3zY6cH0jF5gE01";
const KEY_B = "AIzaSyQ8sN2wR5tU1oP9aV4bM7kJ3hG6fL0xC02";

describe("the key ring's masking", () => {
  it("masks whole keys, runs of 12 or more of their characters, and leaves shorter runs", async () => {
    const ring = await createKeyRing(`${KEY_A},${KEY_B}`);
    expect(ring.redact(`a=${KEY_A}&b=${KEY_B}.`)).toBe("a=AIza…gE01&b=AIza…xC02.");
    expect(ring.redact(`head ${KEY_A.slice(0, -1)} tail`)).toBe("head … tail");
    expect(ring.redact(`mid ${KEY_B.slice(10, 22)} end`)).toBe("mid … end");
    expect(ring.redact(`short ${KEY_B.slice(10, 21)} end`)).toBe(`short ${KEY_B.slice(10, 21)} end`);
    // Two keys back to back are one run of key material.
    expect(ring.redact(`${KEY_A}${KEY_B}`)).toBe("…");
    expect(ring.redact("nothing to see")).toBe("nothing to see");
  });

  it("never masks with secrets too short to be an API key, and warns about them once", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      // A .dev.vars line pasted into API_KEYS: `GEMINI_API_KEY`, `=`, the key; and a stray `json`.
      const ring = await createKeyRing(`GEMINI_API_KEY = ${KEY_A} json`);
      const header = "application/json; charset=UTF-8";
      expect(ring.redact(header)).toBe(header);
      expect(ring.redact("x-goog-upload-control-url: GEMINI_API_KEY")).toBe("x-goog-upload-control-url: GEMINI_API_KEY");
      expect(ring.redact(`k=${KEY_A}`)).toBe("k=AIza…gE01");
      expect(warn).toHaveBeenCalledTimes(1);
      const message = String(warn.mock.calls[0]?.[0]);
      expect(message).toMatch(/#1 .*#2 .*#4 .*too short to be an API key/);
      expect(message).not.toContain("GEMINI_API_KEY");
    } finally {
      warn.mockRestore();
    }
  });
});
