// Finds the token usage in a response body as it streams past, without holding the body.
// Gemini reports `"usageMetadata":{...}` (cumulative in streams: the last one is the
// total), the OpenAI-compatible API `"usage":{...}`. Inside JSON strings quotes are
// escaped, so the literal marker can only be an object key: scanning the raw text for it
// works the same for plain JSON, SSE events and the streamed JSON array.

export interface TokenUsage {
  promptTokens: number;
  outputTokens: number;
}

const MARKERS = ['"usageMetadata":', '"usage":'] as const;
const LONGEST_MARKER = Math.max(...MARKERS.map((marker) => marker.length));
/** A usage object is a few hundred bytes; anything far larger is not one. */
const MAX_OBJECT_LENGTH = 16_384;

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function toUsage(json: string): TokenUsage | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const usage = parsed as Record<string, unknown>;
  if ("promptTokenCount" in usage || "candidatesTokenCount" in usage || "totalTokenCount" in usage) {
    // Thinking tokens are billed as output; the Live API says responseTokenCount.
    return {
      promptTokens: count(usage.promptTokenCount),
      outputTokens: count(usage.candidatesTokenCount ?? usage.responseTokenCount) + count(usage.thoughtsTokenCount),
    };
  }
  if ("prompt_tokens" in usage || "completion_tokens" in usage) {
    // Whatever the total holds beyond the prompt was generated, thinking included, in case
    // completion_tokens leaves the thoughts out.
    const prompt = count(usage.prompt_tokens);
    return { promptTokens: prompt, outputTokens: Math.max(count(usage.completion_tokens), count(usage.total_tokens) - prompt) };
  }
  return null;
}

export class UsageScanner {
  #decoder = new TextDecoder();
  /** The end of the previous chunk, in case a marker straddles two chunks. */
  #tail = "";
  /** The usage object being collected, once its marker was seen. */
  #object: { text: string; depth: number; inString: boolean; escaped: boolean } | null = null;
  #last: TokenUsage | null = null;

  get usage(): TokenUsage | null {
    return this.#last;
  }

  push(chunk: Uint8Array): void {
    this.#scan(this.#decoder.decode(chunk, { stream: true }));
  }

  #scan(text: string): void {
    let rest = text;
    while (rest.length > 0) {
      if (this.#object !== null) {
        rest = this.#collect(rest);
        continue;
      }
      const haystack = this.#tail + rest;
      let at = -1;
      let markerLength = 0;
      for (const marker of MARKERS) {
        const index = haystack.indexOf(marker);
        if (index !== -1 && (at === -1 || index < at)) {
          at = index;
          markerLength = marker.length;
        }
      }
      if (at === -1) {
        this.#tail = haystack.slice(-(LONGEST_MARKER - 1));
        return;
      }
      this.#tail = "";
      this.#object = { text: "", depth: 0, inString: false, escaped: false };
      rest = haystack.slice(at + markerLength);
    }
  }

  /** Consumes characters of the usage object; returns what follows it. */
  #collect(text: string): string {
    const object = this.#object;
    if (object === null) return text;
    for (let i = 0; i < text.length; i++) {
      const char = text[i];
      if (object.depth === 0) {
        if (char === " " || char === "\n" || char === "\r" || char === "\t") continue;
        if (char !== "{") {
          this.#object = null;
          return text.slice(i);
        }
      }
      object.text += char;
      if (object.inString) {
        if (object.escaped) object.escaped = false;
        else if (char === "\\") object.escaped = true;
        else if (char === '"') object.inString = false;
      } else if (char === '"') object.inString = true;
      else if (char === "{") object.depth++;
      else if (char === "}" && --object.depth === 0) {
        this.#last = toUsage(object.text) ?? this.#last;
        this.#object = null;
        return text.slice(i + 1);
      }
      if (object.text.length > MAX_OBJECT_LENGTH) {
        this.#object = null;
        return text.slice(i + 1);
      }
    }
    return "";
  }
}
