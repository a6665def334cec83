// The models the fake lists, with Google's Model resource shape and page-token paging.

export interface GeminiModel {
  name: string;
  version: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTemperature?: number;
  thinking?: boolean;
}

const GENERATE_METHODS = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"];
const EMBED_METHODS = ["embedContent", "countTextTokens", "countTokens"];

function chatModel(id: string, displayName: string): GeminiModel {
  return {
    name: `models/${id}`,
    version: "001",
    displayName,
    description: `Fake ${displayName} served by the test upstream.`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: GENERATE_METHODS,
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  };
}

function embeddingModel(id: string, displayName: string): GeminiModel {
  return {
    name: `models/${id}`,
    version: "001",
    displayName,
    description: `Fake ${displayName} served by the test upstream.`,
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    supportedGenerationMethods: EMBED_METHODS,
  };
}

export const catalog: readonly GeminiModel[] = [
  chatModel("gemini-2.5-pro", "Gemini 2.5 Pro"),
  chatModel("gemini-2.5-flash", "Gemini 2.5 Flash"),
  chatModel("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite"),
  chatModel("gemini-2.0-flash", "Gemini 2.0 Flash"),
  embeddingModel("gemini-embedding-001", "Gemini Embedding 001"),
  embeddingModel("text-embedding-004", "Text Embedding 004"),
];

/** Any name is a model to the fake (except "nonexistent" ones, rejected earlier). */
export function describeModel(model: string): GeminiModel {
  return catalog.find((entry) => entry.name === `models/${model}`) ?? chatModel(model, model);
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

export function listPage(pageSize: string | null, pageToken: string | null): { models: GeminiModel[]; nextPageToken?: string } {
  const requested = Number(pageSize ?? DEFAULT_PAGE_SIZE);
  const size = Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  const offset = pageToken === null || pageToken === "" ? 0 : Number(Buffer.from(pageToken, "base64url").toString("utf8")) || 0;
  const models = catalog.slice(offset, offset + size);
  const next = offset + size;
  return next < catalog.length ? { models, nextPageToken: Buffer.from(String(next)).toString("base64url") } : { models };
}
