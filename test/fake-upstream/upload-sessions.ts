// Resumable upload sessions: started by one key, bound to its project, filled chunk by chunk.

export interface UploadSession {
  id: string;
  project: string;
  ownerKey: string;
  apiVersion: string;
  /** Host the start request came to; the file's uri is built from it. */
  origin: string;
  /** X-Goog-Upload-Header-Content-Length, if given. */
  declaredSize: number | null;
  mimeType: string;
  displayName?: string;
  /** Id the client asked for with `file.name`, if any. */
  requestedId?: string;
  chunks: Buffer[];
  received: number;
}
