// Reading fields of parsed JSON without casting unknown values.

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function field(value: unknown, name: string): unknown {
  return isRecord(value) ? value[name] : undefined;
}

/** The objects of a JSONL file, one per non-empty line; a line that is not a JSON object gives `{}`. */
export function jsonLines(bytes: Buffer): Record<string, unknown>[] {
  return bytes
    .toString("utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        return isRecord(parsed) ? parsed : {};
      } catch {
        return {};
      }
    });
}
