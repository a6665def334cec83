// Server messages of a Live API turn, shaped as Google sends them (and as @google/genai's
// LiveServerMessage reads them): modelTurn pieces, generationComplete, then turnComplete
// carrying the session's cumulative usageMetadata.

import { splitIntoChunks } from "./reply-content.ts";

export interface LiveUsage {
  promptTokenCount: number;
  responseTokenCount: number;
}

export function setupComplete(): unknown {
  return { setupComplete: {} };
}

export function modelTurnMessages(text: string, chunks: number): unknown[] {
  return splitIntoChunks(text, chunks)
    .filter((piece) => piece !== "")
    .map((piece) => ({ serverContent: { modelTurn: { parts: [{ text: piece }] } } }));
}

export function generationComplete(): unknown {
  return { serverContent: { generationComplete: true } };
}

/** Usage is cumulative over the session, so the last one seen is the session's total. */
export function turnComplete(usage: LiveUsage): unknown {
  const { promptTokenCount, responseTokenCount } = usage;
  return {
    serverContent: { turnComplete: true },
    usageMetadata: {
      promptTokenCount,
      responseTokenCount,
      totalTokenCount: promptTokenCount + responseTokenCount,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokenCount }],
      responseTokensDetails: [{ modality: "TEXT", tokenCount: responseTokenCount }],
    },
  };
}
