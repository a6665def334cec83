// Model ids come from clients and end up in storage, URLs and the stats page, so only
// names shaped like Google's (gemini-2.5-flash, text-embedding-004, gemma-3-27b-it,
// imagen-4.0-generate-001, ...) are accepted; anything else never reaches upstream.
const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

/** The bare model id (without `models/`), or null when it is not a plausible model id. */
export function parseModelId(raw: string): string | null {
  const id = raw.startsWith("models/") ? raw.slice("models/".length) : raw;
  return MODEL_ID.test(id) && !id.includes("..") ? id : null;
}
