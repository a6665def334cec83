// Wire framings of streamed answers, byte for byte as Google sends them.

/** Native `alt=sse`: CRLF-framed events, no terminator event. */
export function geminiSseEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\r\n\r\n`;
}

/** Native streaming without `alt=sse`: one JSON array, opened with the first element. */
export function jsonArrayPieces(payloads: unknown[]): { pieces: string[]; trailer: string } {
  const pieces = payloads.map((payload, index) => `${index === 0 ? "[" : "\r\n,"}${JSON.stringify(payload)}`);
  return { pieces: pieces.length === 0 ? ["["] : pieces, trailer: "\r\n]" };
}

/** OpenAI-compatible streaming: LF-framed events, closed by `data: [DONE]`. */
export function openAiSseEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const openAiDoneEvent = "data: [DONE]\n\n";
