// What a quota 429 says about the limit it hit. Google's QuotaFailure names each violated
// quota (`quotaId`), its value (`quotaValue`, a string, sometimes missing) and the model
// (`quotaDimensions.model`); several violations may come in one body, in any order.

/** The windows the pool counts: requests per minute, requests per day, input tokens per minute. */
export type QuotaWindow = "rpm" | "rpd" | "tpm";

export const QUOTA_WINDOWS: readonly QuotaWindow[] = ["rpm", "rpd", "tpm"];

export interface QuotaLimit {
  window: QuotaWindow;
  /** Requests (rpm, rpd) or input tokens (tpm); 0 means the model is not available to the key. */
  value: number;
}

export interface QuotaViolation {
  quotaId?: unknown;
  quotaMetric?: unknown;
  quotaValue?: unknown;
}

/** The window a quota id (or metric) names; null for quotas the pool does not count. */
export function quotaWindow(id: string): QuotaWindow | null {
  if (/PerDay/i.test(id)) return "rpd";
  if (/PerMinute/i.test(id)) return /Token/i.test(id) ? "tpm" : "rpm";
  return null;
}

function limitValue(raw: unknown): number | null {
  const value = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/**
 * The limits named by a 429's violations, one per window (the smallest when a window is
 * named twice). Violations without a usable id or a whole, non-negative value are skipped.
 */
export function violatedLimits(violations: readonly QuotaViolation[]): QuotaLimit[] {
  const byWindow = new Map<QuotaWindow, number>();
  for (const violation of violations) {
    const id = `${typeof violation.quotaId === "string" ? violation.quotaId : ""} ${typeof violation.quotaMetric === "string" ? violation.quotaMetric : ""}`;
    const window = quotaWindow(id);
    const value = limitValue(violation.quotaValue);
    if (window === null || value === null) continue;
    byWindow.set(window, Math.min(value, byWindow.get(window) ?? Number.POSITIVE_INFINITY));
  }
  return [...byWindow].map(([window, value]) => ({ window, value }));
}
