// Identifiers, timestamps and durations in the formats Google uses for resources.

import { randomBytes } from "node:crypto";

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A lowercase alphanumeric id like Google's (`files/abc123xyz789`): the SDK extracts file
 * ids from URIs with /[a-z0-9]+/, so anything else would break it.
 */
export function newResourceId(length = 12): string {
  return [...randomBytes(length)].map((byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join("");
}

/** RFC 3339 UTC, as Google formats createTime and friends. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Milliseconds of a protobuf Duration such as "300s" or "1.5s"; null if it is not one. */
export function durationMs(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match?.[1] === undefined ? null : Math.round(Number(match[1]) * 1000);
}

/** Epoch milliseconds of an RFC 3339 timestamp; null if it is not one. */
export function timestampMs(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
