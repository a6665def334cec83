// Validates JSON sent to /__fake/* into typed configuration; a mistake in a test's setup
// should fail loudly with a 400, not configure something silently different.

import { isRecord } from "./json-access.ts";
import type { FakeConfig } from "./resource-types.ts";
import type { KeyConfig, ModelShape, OutcomeKind, QuotaConfig, ScriptConfig, ScriptedOutcome, WindowQuota } from "./types.ts";

export class ControlInputError extends Error {}

const OUTCOME_KINDS: readonly OutcomeKind[] = [
  "ok",
  "quota-day",
  "quota-minute",
  "quota-tokens",
  "bare-429",
  "invalid-key",
  "suspended",
  "denied-project",
  "server-error",
  "overloaded",
  "location",
  "bad-request",
];

function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new ControlInputError(`${what} must be a JSON object`);
  return value;
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value === "") throw new ControlInputError(`${name} must be a non-empty string`);
  return value;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  return body[name] === undefined ? undefined : requiredString(body, name);
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new ControlInputError(`${name} must be a number >= 0`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new ControlInputError(`${name} must be a boolean`);
  return value;
}

/** Drops undefined fields so merging configurations never erases a value by accident. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function restriction(value: unknown): KeyConfig["restricted"] {
  if (value === undefined || value === "referrer" || value === "ip") return value;
  throw new ControlInputError('restricted must be "referrer" or "ip"');
}

export function parseKeyConfig(value: unknown): KeyConfig {
  const body = record(value, "key config");
  return defined({
    key: requiredString(body, "key"),
    invalid: optionalBoolean(body, "invalid"),
    suspended: optionalBoolean(body, "suspended"),
    restricted: restriction(body.restricted),
    delayMs: optionalNumber(body, "delayMs"),
    project: optionalString(body, "project"),
  });
}

function windowQuota(value: unknown, name: string): WindowQuota | undefined {
  if (value === undefined) return undefined;
  const body = record(value, name);
  const limit = optionalNumber(body, "limit");
  if (limit === undefined) throw new ControlInputError(`${name}.limit is required`);
  return defined({ limit, windowMs: optionalNumber(body, "windowMs"), retryDelay: optionalString(body, "retryDelay") });
}

export function parseQuotaConfig(value: unknown): QuotaConfig {
  const body = record(value, "quota config");
  const key = optionalString(body, "key");
  const project = optionalString(body, "project");
  if ((key === undefined) === (project === undefined)) throw new ControlInputError("give exactly one of key or project");
  return defined({
    key,
    project,
    model: requiredString(body, "model"),
    perDay: optionalNumber(body, "perDay"),
    perMinute: windowQuota(body.perMinute, "perMinute"),
    tokensPerMinute: windowQuota(body.tokensPerMinute, "tokensPerMinute"),
  });
}

function outcome(value: unknown): ScriptedOutcome {
  const body = typeof value === "string" ? { kind: value } : record(value, "outcome");
  const kind = OUTCOME_KINDS.find((candidate) => candidate === body.kind);
  if (kind === undefined) throw new ControlInputError(`unknown outcome ${JSON.stringify(body.kind)}`);
  return defined({
    kind,
    retryDelay: optionalString(body, "retryDelay"),
    message: optionalString(body, "message"),
    headers: stringMap(body.headers, "headers"),
  });
}

function stringMap(value: unknown, what: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const entries = Object.entries(record(value, what));
  if (!entries.every((entry): entry is [string, string] => typeof entry[1] === "string")) {
    throw new ControlInputError(`${what} must map names to strings`);
  }
  return Object.fromEntries(entries);
}

export function parseScriptConfig(value: unknown): ScriptConfig {
  const body = record(value, "script config");
  if (!Array.isArray(body.outcomes)) throw new ControlInputError("outcomes must be an array");
  return defined({ key: requiredString(body, "key"), model: optionalString(body, "model"), outcomes: body.outcomes.map(outcome) });
}

function delaysByKey(value: unknown): Record<string, number> | undefined {
  if (value === undefined) return undefined;
  const body = record(value, "firstByteDelayMsByKey");
  return Object.fromEntries(Object.keys(body).map((key) => [key, optionalNumber(body, key) ?? 0]));
}

export function parseModelShape(value: unknown): ModelShape {
  const body = record(value, "model shape");
  return defined({
    model: requiredString(body, "model"),
    chunks: optionalNumber(body, "chunks"),
    chunkDelayMs: optionalNumber(body, "chunkDelayMs"),
    text: typeof body.text === "string" ? body.text : undefined,
    firstByteDelayMs: optionalNumber(body, "firstByteDelayMs"),
    firstByteDelayMsByKey: delaysByKey(body.firstByteDelayMsByKey),
    resetAfterChunks: optionalNumber(body, "resetAfterChunks"),
    cutBody: body.cutBody === "stall" || body.cutBody === "reset" ? body.cutBody : undefined,
    chunked: body.chunked === true ? true : undefined,
  });
}

export function parseFakeConfig(value: unknown): FakeConfig {
  const body = record(value, "config");
  const listPageSize = optionalNumber(body, "listPageSize");
  if (listPageSize !== undefined && (!Number.isInteger(listPageSize) || listPageSize < 1)) {
    throw new ControlInputError("listPageSize must be an integer >= 1");
  }
  return defined({ batchDelayMs: optionalNumber(body, "batchDelayMs"), listPageSize });
}
