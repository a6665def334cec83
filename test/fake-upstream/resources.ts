// Everything keys create: files, caches, batches and upload sessions, plus the two
// settings that shape them (batch completion delay, default list page size).

import type { StoredBatch } from "./batch-records.ts";
import type { StoredCache } from "./cache-records.ts";
import type { StoredFile } from "./file-records.ts";
import { OwnedStore } from "./owned-store.ts";
import type { StoredOperation } from "./operation-routes.ts";
import type { FakeConfig } from "./resource-types.ts";
import type { UploadSession } from "./upload-sessions.ts";

const DEFAULT_CONFIG: Required<FakeConfig> = { batchDelayMs: 200, listPageSize: 10 };

export class FakeResources {
  readonly files = new OwnedStore<StoredFile>();
  readonly caches = new OwnedStore<StoredCache>();
  readonly batches = new OwnedStore<StoredBatch>();
  readonly operations = new OwnedStore<StoredOperation>();
  readonly uploads = new Map<string, UploadSession>();
  #config: Required<FakeConfig> = { ...DEFAULT_CONFIG };

  get config(): Readonly<Required<FakeConfig>> {
    return this.#config;
  }

  /** Merges into the current settings. */
  configure(config: FakeConfig): void {
    this.#config = { ...this.#config, ...config };
  }

  reset(): void {
    this.files.clear();
    this.caches.clear();
    this.batches.clear();
    this.operations.clear();
    this.uploads.clear();
    this.#config = { ...DEFAULT_CONFIG };
  }
}
