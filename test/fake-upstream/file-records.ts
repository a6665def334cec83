// Stored files and the File resource JSON Google returns for them.

import { createHash } from "node:crypto";
import type { Owned } from "./owned-store.ts";
import { timestamp } from "./resource-ids.ts";

/** Google deletes uploaded files after 48 hours. */
export const FILE_LIFETIME_MS = 48 * 3_600_000;

export interface StoredFile extends Owned {
  displayName?: string;
  mimeType: string;
  bytes: Buffer;
  /** Fixed at creation from the host and API version the upload used, as Google's is. */
  uri: string;
  /** UPLOADED for client uploads, GENERATED for batch results. */
  source: "UPLOADED" | "GENERATED";
}

export interface FileResource {
  name: string;
  displayName?: string;
  mimeType: string;
  sizeBytes: string;
  createTime: string;
  updateTime: string;
  expirationTime: string;
  sha256Hash: string;
  uri: string;
  state: "ACTIVE";
  source: "UPLOADED" | "GENERATED";
}

export function fileUri(origin: string, apiVersion: string, id: string): string {
  return `${origin}/${apiVersion}/files/${id}`;
}

export function fileJson(file: StoredFile): FileResource {
  // Field order as Google sends it: name, displayName (only when set), then the rest.
  return {
    name: `files/${file.id}`,
    ...(file.displayName === undefined ? {} : { displayName: file.displayName }),
    mimeType: file.mimeType,
    sizeBytes: String(file.bytes.length),
    createTime: timestamp(file.createdAt),
    updateTime: timestamp(file.createdAt),
    expirationTime: timestamp(file.expiresAt ?? file.createdAt + FILE_LIFETIME_MS),
    // Google's bytes field: base64 of the hex digest.
    sha256Hash: Buffer.from(createHash("sha256").update(file.bytes).digest("hex")).toString("base64"),
    uri: file.uri,
    state: "ACTIVE",
    source: file.source,
  };
}
