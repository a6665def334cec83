// The shapes of the pool's admin API (/api/keys*, /api/events): what the key store
// answers and the page renders. Keys appear only by id and masked form, never in full.

import type { PoolKey } from "./key-ring";

export type Role = "admin" | "viewer";

/** Where a key comes from: the API_KEYS secret, or added at runtime through /api/keys. */
export type KeySource = "env" | "runtime";

/**
 * Who disabled a key: an operator (survives everything but an operator's enable), Google
 * on a request (re-verified by the daily reset), or a verification (likewise).
 */
export type DisabledBy = "operator" | "google" | "verification";

export type VerifyOutcome = "valid" | "invalid" | "suspended" | "restricted" | "unreachable";

export const VERIFY_OUTCOMES: readonly VerifyOutcome[] = ["valid", "invalid", "suspended", "restricted", "unreachable"];

export interface Verification {
  outcome: VerifyOutcome;
  at: string;
  /** Google's message (pool keys masked), when it gave one. */
  message?: string;
}

export type EventKind =
  | "quota-day"
  | "quota-minute"
  | "cooldown"
  | "disabled"
  | "enabled"
  | "verified"
  | "added"
  | "deleted"
  | "grouped"
  | "reset"
  | "upstream-error"
  | "timeout";

export const EVENT_KINDS: readonly EventKind[] = [
  "quota-day",
  "quota-minute",
  "cooldown",
  "disabled",
  "enabled",
  "verified",
  "added",
  "deleted",
  "grouped",
  "reset",
  "upstream-error",
  "timeout",
];

export interface PoolEvent {
  id: string;
  at: string;
  keyId?: string;
  masked?: string;
  position?: number;
  model?: string;
  /** The upstream's HTTP status, when the event is about an answer of Google's. */
  status?: number;
  kind: EventKind;
  /** Google's message or the operator's reason, with pool keys masked. */
  message?: string;
  /** Who made the change, for admin actions. */
  role?: Role;
}

/** An event as the proxy reports it; the store adds the id, the time and the key's masked form. */
export interface EventInput {
  kind: EventKind;
  keyId?: string;
  model?: string;
  status?: number;
  message?: string;
  role?: Role;
}

export interface EventQuery {
  limit: number;
  /** An event id: only older events. */
  before?: string;
  keyId?: string;
  /** The key's 1-based position, as the key table shows it. */
  position?: number;
  /** The key's masked form (`AIza…x7Q2`). */
  masked?: string;
  model?: string;
  kind?: EventKind;
}

export interface EventPage {
  events: PoolEvent[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: string;
}

export interface MaskedKey {
  id: string;
  masked: string;
}

export interface AddKeysResult {
  added: MaskedKey[];
  duplicates: number;
  rejected: { masked: string; reason: string }[];
  /** The verification job the added keys joined, when they are verified. */
  job?: VerifyJob;
}

export interface VerifyJobOutcome {
  id: string;
  masked: string;
  position: number;
  outcome: VerifyOutcome;
  message?: string;
  at: string;
}

export interface VerifyJob {
  id: string;
  startedAt: string;
  finishedAt?: string;
  total: number;
  done: number;
  running: boolean;
  counts: Record<VerifyOutcome, number>;
  outcomes: VerifyJobOutcome[];
}

export interface VerifyResult {
  id: string;
  masked: string;
  outcome: VerifyOutcome;
  message?: string;
  at: string;
}

/** `group` moves keys into the request's `group` (null: out of any group). */
export type BulkAction = "disable" | "enable" | "delete" | "verify" | "group";

/** What some bulk actions take besides the ids. */
export interface BulkOptions {
  /** Action "group": the group to move the keys into (null: out of any group). */
  group?: string | null;
  /** Action "verify": add the keys to a verification that runs instead of answering 409 (a page sending a big selection in parts). */
  join?: boolean;
}

export interface BulkResult {
  action: BulkAction;
  done: number;
  skipped: { id: string; masked: string; reason: string }[];
}

/** Why a change to one key was refused, for the route to turn into 404 or 409. */
export type KeyChangeRefusal = { refused: "unknown" } | { refused: "env-key"; masked: string };

/** Keys added at runtime with their secrets: for the proxy's key ring only, never for a response. */
export interface RuntimeKeys {
  /** Changes whenever runtime keys join or leave. */
  version: string;
  keys: PoolKey[];
}

export type KeySort = "position" | "status" | "requests" | "lastUsed" | "masked" | "group";

/** `?group=` value for the keys in no group (a group name cannot start with a hyphen and be this). */
export const NO_GROUP = "-";

export interface KeyListQuery {
  status?: "available" | "cooling" | "exhausted" | "disabled";
  q?: string;
  /** A group's name: its keys only; NO_GROUP: the keys in none. */
  group?: string;
  sort: KeySort;
  order: "asc" | "desc";
  offset: number;
  limit: number;
}
