import type { VerifyOutcome } from "../admin-model";
import { field } from "../json-field";

// What Google's answer to a model list says about the key that asked. The list spends
// no generation quota, and Google checks the key (validity, suspension, restrictions)
// before it answers it, exactly as it does for a generate call.

const RESTRICTION_REASONS = new Set([
  "API_KEY_HTTP_REFERRER_BLOCKED",
  "API_KEY_IP_ADDRESS_BLOCKED",
  "API_KEY_ANDROID_APP_BLOCKED",
  "API_KEY_IOS_APP_BLOCKED",
  "API_KEY_SERVICE_BLOCKED",
  "SERVICE_DISABLED",
]);

function googleError(body: string): { message: string; reasons: string[] } {
  try {
    const parsed: unknown = JSON.parse(body);
    const error = field(Array.isArray(parsed) ? parsed[0] : parsed, "error");
    const message = field(error, "message");
    const details = field(error, "details");
    const reasons = (Array.isArray(details) ? details : []).map((detail) => field(detail, "reason")).filter((r) => typeof r === "string");
    return { message: typeof message === "string" ? message : "", reasons };
  } catch {
    return { message: "", reasons: [] };
  }
}

export interface VerificationVerdict {
  outcome: VerifyOutcome;
  /** Google's own words, unredacted: the caller masks keys before storing them. */
  message?: string;
}

export function verificationVerdict(status: number, body: string): VerificationVerdict {
  // A 429 on the list still proves Google accepted the key.
  if (status === 200 || status === 429) return { outcome: "valid" };
  const { message, reasons } = googleError(body);
  const said = message === "" ? `HTTP ${status}` : message;
  if (reasons.includes("API_KEY_INVALID") || /API key not valid|API key expired/i.test(message) || status === 401) {
    return { outcome: "invalid", message: said };
  }
  if (reasons.includes("CONSUMER_SUSPENDED") || /suspended|denied access/i.test(message)) return { outcome: "suspended", message: said };
  if (reasons.some((reason) => RESTRICTION_REASONS.has(reason)) || /are blocked|restriction|has not been used in project/i.test(message)) {
    return { outcome: "restricted", message: said };
  }
  return { outcome: "unreachable", message: said };
}
