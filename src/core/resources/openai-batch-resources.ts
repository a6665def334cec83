import type { OpenAIRoute } from "../route";
import { field } from "../json-field";

// Google's OpenAI-compatible batches are its native Batch API in another dialect: the
// OpenAI `id` is the batch's name (`batches/abc`), and input_file_id, output_file_id and
// error_file_id are names of the Files API (`files/abc`), uploaded and downloaded with
// the native routes. So the compat routes pin by the very names the native routes use,
// and a batch created one way is found by the other.

const BATCH_NAME = /^(?:batches\/)?([A-Za-z0-9_-]{1,200})$/;
const FILE_NAME = /^(?:files\/)?([A-Za-z0-9_-]{1,200})$/;

function named(value: unknown, pattern: RegExp, collection: string): string | null {
  const id = typeof value === "string" ? pattern.exec(value)?.[1] : undefined;
  return id === undefined ? null : `${collection}/${id}`;
}

/** The batch routes (create, retrieve, cancel) as opposed to chat, embeddings and the rest. */
export function isBatchRoute(route: OpenAIRoute): boolean {
  return route.endpoint === "batches" || route.resource !== undefined;
}

/** Does a successful answer to this request create a batch? */
export function createsBatch(route: OpenAIRoute, method: string): boolean {
  return route.endpoint === "batches" && method === "POST";
}

/** The batch in the path, or the input file a batch creation names: they pin the request. */
export function openAIResources(route: OpenAIRoute, method: string, body: Uint8Array | null): string[] {
  if (route.resource !== undefined) return [route.resource];
  if (!createsBatch(route, method) || body === null) return [];
  try {
    const file = named(field(JSON.parse(new TextDecoder().decode(body)), "input_file_id"), FILE_NAME, "files");
    return file === null ? [] : [file];
  } catch {
    // Not JSON: Google will say so; there is nothing to pin.
    return [];
  }
}

export interface BatchNames {
  /** The batch and its input file. */
  own: string[];
  /** Files the batch produced (results, errors), new once it has finished. */
  produced: string[];
}

/** The names a batch object shows; all of them live in the project of the key that answered. */
export function batchNames(batch: unknown): BatchNames {
  const pick = (values: (string | null)[]): string[] => values.filter((value): value is string => value !== null);
  return {
    own: pick([named(field(batch, "id"), BATCH_NAME, "batches"), named(field(batch, "input_file_id"), FILE_NAME, "files")]),
    produced: pick([
      named(field(batch, "output_file_id"), FILE_NAME, "files"),
      named(field(batch, "error_file_id"), FILE_NAME, "files"),
    ]),
  };
}
