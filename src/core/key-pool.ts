import type {
  AddKeysResult,
  BulkAction,
  BulkResult,
  EventInput,
  EventPage,
  EventQuery,
  KeyChangeRefusal,
  KeyListQuery,
  MaskedKey,
  Role,
  RuntimeKeys,
  VerifyJob,
  VerifyResult,
} from "./admin-model";
import type { KeyAnswer, KeyListPage, StatsSnapshot } from "./stats-model";
import type { KeyFault } from "./upstream-outcome";

// The contract between a proxied request and the single source of truth about keys.
// One `acquire` per upstream attempt is the only call a request awaits; it also carries
// the verdict on the previous attempt, so a retry costs no extra round trip.

export interface AttemptFailure {
  keyId: string;
  /** null for requests not tied to a model (model lists, files): only key-level faults apply. */
  model: string | null;
  fault: KeyFault;
  /** The upstream's HTTP status, for the key's event log. */
  status?: number;
}

export interface AcquireRequest {
  model: string | null;
  /** Keys this request already tried. */
  exclude: string[];
  /** The outcome of this request's previous attempt, recorded before choosing. */
  failure?: AttemptFailure;
  /**
   * Resources the request uses (`files/abc`, `cachedContents/x`, ...). A known one pins
   * the request to the key whose project owns it; unknown ones leave the choice free.
   */
  resources?: string[];
  /** A key the request must use, named by the request itself (an upload session). */
  owner?: string;
  /**
   * Ignore owners only inferred from an earlier use: their pinned key refused the
   * resource, so the request searches the pool instead. Owners of creations still pin.
   */
  searchInferred?: true;
}

/** Who owns a resource, until when the record is worth keeping. */
export interface Ownership {
  name: string;
  keyId: string;
  expiresAt: number;
  /** Learned from a successful use rather than from Google's answer to a creation. */
  inferred?: boolean;
}

export type Lease =
  | {
      keyId: string;
      /** True when the key was chosen because it owns a resource of the request. */
      pinned: boolean;
      /** Set when every owner record behind the pin was inferred from use, none from a creation. */
      inferred?: true;
    }
  | {
      keyId: null;
      /**
       * Why nothing is left: no keys configured, all disabled, all marked, or all tried
       * already; or the request's resources belong to different keys, or to a key that
       * is disabled or gone.
       */
      cause: "no-keys" | "disabled" | "exhausted" | "all-tried" | "mixed-owners" | "owner-unavailable";
      /** When the earliest marked key frees up (epoch ms), for Retry-After. */
      freeAt: number | null;
      /** The next quota-day boundary (epoch ms). */
      resetAt: number;
      /** Set when the refusal concerns the one key that owns the request's resources. */
      pinned?: true;
      /** With cause "disabled": how many keys each kind of disable holds back, to say which in the 503. */
      disabled?: DisabledCounts;
    };

/**
 * A verification asked for: `job` is null when none of the given ids is a key (nothing to
 * check); `started: false` with the running job while another runs. `unknown`: ids given
 * that are no key of the pool.
 */
export interface VerificationStart {
  started: boolean;
  job: VerifyJob | null;
  unknown: string[];
}

/** Disabled keys by who disabled them; `awaiting` are added keys waiting for their first check. */
export type DisabledCounts = Partial<Record<"operator" | "google" | "verification" | "awaiting", number>>;

export interface UsageReport {
  keyId: string;
  model: string;
  promptTokens: number;
  outputTokens: number;
  /** When the request was served: it decides the day and hour the request counts in. */
  at: number;
}

export interface KeyPool {
  acquire(request: AcquireRequest): Promise<Lease>;
  /** Counts successful requests; called off the critical path, in batches (usage-batch.ts). */
  recordUsage(reports: UsageReport[]): Promise<void>;
  /** Remembers which key created (or can see) resources; awaited when the client will use them next. */
  recordOwnership(entries: Ownership[]): Promise<void>;
  /** Forgets resources that were deleted. */
  forgetResources(names: string[]): Promise<void>;
  /** The keys not disabled, in pool order: for requests that ask every key (merged lists). */
  usableKeys(): Promise<string[]>;
  /** Upstream 5xx and timeouts per key, for the event log; called off the critical path. */
  recordEvents(events: EventInput[]): Promise<void>;
  /** Keys added at runtime, with their secrets; null when `known` is still the current version. */
  runtimeKeys(known?: string): Promise<RuntimeKeys | null>;
}

/** What the stats page and the daily reset need besides the request path. */
export interface KeyPoolAdmin {
  /** `keys: false` leaves the per-key list out (for large pools; /api/keys pages through it). */
  snapshot(options?: { keys?: boolean }): Promise<StatsSnapshot>;
  /**
   * `day`: lift marks from before the current quota day and re-verify keys Google
   * disabled (the cron); `all`: lift every mark and every disable but an operator's.
   */
  reset(scope: "day" | "all", role?: Role): Promise<void>;
  listKeys(query: KeyListQuery): Promise<KeyListPage>;
  addKeys(secrets: string[], verify: boolean, role: Role): Promise<Omit<AddKeysResult, "rejected">>;
  deleteKey(id: string, role: Role): Promise<MaskedKey | KeyChangeRefusal>;
  disableKey(id: string, reason: string, role: Role): Promise<KeyAnswer>;
  enableKey(id: string, role: Role): Promise<KeyAnswer>;
  verifyKey(id: string, role: Role): Promise<VerifyResult | KeyChangeRefusal>;
  /** Every key when `ids` is null; `started: false` (and the running job) while one runs. */
  startVerification(ids: string[] | null, role: Role): Promise<VerificationStart>;
  verification(): Promise<VerifyJob | null>;
  bulk(action: BulkAction, ids: string[], role: Role): Promise<BulkResult | VerificationStart>;
  events(query: EventQuery): Promise<EventPage>;
}
