/** A field of parsed JSON of unknown shape; undefined when `value` is no object or lacks it. */
export function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null && name in value ? (value as Record<string, unknown>)[name] : undefined;
}
