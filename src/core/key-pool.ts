import type {
  AddKeysResult,
  BulkAction,
  BulkOptions,
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
import type { ViewKey, ViewMark } from "./key-store/pool-state";
import type { QuotaEntry } from "./key-store/quota-book";
import type { QuotaWindow } from "./quota-limits";
import type { KeyFault } from "./upstream-outcome";
import type { NewKeyEntry } from "./key-admin/parse-new-keys";

// Two contracts. `KeyPool` is what a proxied request sees: one `acquire` per upstream
// attempt, which also carries the verdict on the previous attempt. `KeyManager` is the
// single source of truth about keys (the Durable Object). Each isolate answers acquires
// from its own copy of the pool (proxy/local-pool.ts): it awaits the manager only when
// it holds no copy (or its own change invalidated it), an owner is not cached, or no key
// is left; a copy past a second old is checked alongside the attempt, not before it.
// Failures and usage go to the manager in the background.

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
   * The key of this request's previous attempt, abandoned before the upstream answered
   * because its lease's `confirmed` said no: nothing is recorded for it, and the isolate
   * stops counting that attempt against the key's quota.
   */
  withdrawn?: string;
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
      /**
       * Set when the key was chosen from a view older than STALE_AFTER_MS (local-view.ts)
       * while a fresh one is on its way: settles once it arrived, false when that view says
       * the key can no longer serve this request (removed, disabled, marked for the model,
       * its quota full). A manager that failed to answer confirms the key.
       */
      confirmed?: Promise<boolean>;
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
  /** When the request was sent upstream: it decides the quota window it counts in (default: `at`). */
  sentAt?: number;
}

export interface KeyPool {
  acquire(request: AcquireRequest): Promise<Lease>;
  /**
   * An attempt ended with nothing for the pool to count: Google refused the request as the
   * client's own mistake or failed (a 5xx, a timeout, a broken connection), or the client
   * left before the answer. Its send stops counting against the key's quota at once, as the
   * manager, which never hears of it, does not count it either.
   */
  uncounted(keyId: string, model: string | null): void;
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

/**
 * Identifies one state of the manager's pool: `epoch` changes when the object restarts,
 * `version` whenever keys, disables or marks change.
 */
export interface ViewStamp {
  epoch: string;
  version: number;
}

/** The manager's pool as an isolate needs it to choose keys by itself. */
export interface PoolView {
  keys: ViewKey[];
  /** Marks still running when the view was taken. */
  marks: ViewMark[];
  /** Counts of the quota scopes and models with a known limit. */
  quota: QuotaEntry[];
  /** Disabled keys by who disabled them: the 503 for a pool with none enabled says where to act. */
  disabled: DisabledCounts;
}

/**
 * Sent back on every manager call: the view itself only when `known` is out of date, and
 * when all that changed since `known` are quota counts, only the entries counted since.
 */
export interface ViewUpdate {
  stamp: ViewStamp;
  view?: PoolView;
  /** The quota entries whose counts changed since the caller's stamp; the rest of its view stands. */
  quota?: QuotaEntry[];
  /** With `quota`: the version of the caller's stamp, which those entries bring up to `stamp`. */
  since?: number;
}

/** The source of truth's side: every method is a (remote) call; those that change or read the pool answer with a view update. */
export interface KeyManager extends Pick<KeyPool, "recordEvents" | "runtimeKeys"> {
  poolView(known: ViewStamp | null): Promise<ViewUpdate>;
  /** Records a failed attempt's verdict (marks, disables). */
  recordFailure(failure: AttemptFailure, known: ViewStamp | null): Promise<ViewUpdate>;
  recordUsage(reports: UsageReport[], known: ViewStamp | null): Promise<ViewUpdate>;
  /** The recorded owners among `names`: immutable, so isolates may cache them. */
  ownersOf(names: string[], known: ViewStamp | null): Promise<{ owners: Ownership[]; update: ViewUpdate }>;
  recordOwnership(entries: Ownership[]): Promise<void>;
  forgetResources(names: string[]): Promise<void>;
}

/** An operator's limit for a model: for every key, the group of one key (`key`: its id), or a group by name. */
export interface LimitSetting {
  model: string;
  window: QuotaWindow;
  /** null removes the operator's limit (a learned one applies again). */
  value: number | null;
  key?: string;
  group?: string;
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
  addKeys(keys: NewKeyEntry[], verify: boolean, role: Role): Promise<Omit<AddKeysResult, "rejected">>;
  /** Moves a runtime key into a project group (null: out of any); API_KEYS keys are refused. */
  groupKey(id: string, group: string | null, role: Role): Promise<KeyAnswer>;
  deleteKey(id: string, role: Role): Promise<MaskedKey | KeyChangeRefusal>;
  disableKey(id: string, reason: string, role: Role): Promise<KeyAnswer>;
  enableKey(id: string, role: Role): Promise<KeyAnswer>;
  verifyKey(id: string, role: Role): Promise<VerifyResult | KeyChangeRefusal>;
  /** Every key when `ids` is null; `started: false` (and the running job) while one runs. */
  startVerification(ids: string[] | null, role: Role, join?: boolean): Promise<VerificationStart>;
  verification(): Promise<VerifyJob | null>;
  bulk(action: BulkAction, ids: string[], role: Role, options?: BulkOptions): Promise<BulkResult | VerificationStart>;
  events(query: EventQuery): Promise<EventPage>;
  setLimit(setting: LimitSetting): Promise<void>;
}
