// A deterministic stand-in for Google's tokenizer, simple enough that a test can predict
// every usage number the fake reports.

/** Property names whose string values count as prompt text, in both native and OpenAI bodies. */
const TEXT_PROPERTIES = new Set(["text", "content", "input"]);

/** Tokens for a piece of text: ceil(UTF-16 length / 4), at least 1. */
export function tokensForText(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * Every string found under a `text`, `content` or `input` property anywhere in the body
 * (arrays under such a property contribute their string elements), concatenated in order.
 */
export function promptText(body: unknown, property = ""): string {
  if (typeof body === "string") return TEXT_PROPERTIES.has(property) ? body : "";
  if (Array.isArray(body)) return body.map((item: unknown) => promptText(item, property)).join("");
  if (typeof body !== "object" || body === null) return "";
  return Object.entries(body)
    .map(([name, value]) => promptText(value, name))
    .join("");
}

/** promptTokenCount the fake reports for a request body: max(1, ceil(promptText(body).length / 4)). */
export function promptTokenCount(body: unknown): number {
  return Math.max(1, Math.ceil(promptText(body).length / 4));
}
