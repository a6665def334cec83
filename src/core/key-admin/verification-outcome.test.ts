import { describe, expect, it } from "vitest";
import { verificationVerdict } from "./verification-outcome";

// Google's answers to a model list, as the live API words them (gemini-wire.md), and
// what each says about the key. The fake upstream covers the common ones end to end.

const google = (code: number, status: string, message: string, reason?: string): string =>
  JSON.stringify({
    error: {
      code,
      message,
      status,
      ...(reason !== undefined && { details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "googleapis.com" }] }),
    },
  });

describe("verificationVerdict", () => {
  it("maps each of Google's key answers to its outcome, with Google's message", () => {
    const cases: [number, string, string][] = [
      [200, '{"models":[]}', "valid"],
      [429, google(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."), "valid"],
      [400, google(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"), "invalid"],
      [400, google(400, "INVALID_ARGUMENT", "API key expired. Please renew the API key."), "invalid"],
      [403, google(403, "PERMISSION_DENIED", "Permission denied: Consumer 'api_key:AIza' has been suspended.", "CONSUMER_SUSPENDED"), "suspended"],
      [403, google(403, "PERMISSION_DENIED", "Your project has been denied access. Please contact support."), "suspended"],
      [403, google(403, "PERMISSION_DENIED", "Requests from referer <empty> are blocked.", "API_KEY_HTTP_REFERRER_BLOCKED"), "restricted"],
      [403, google(403, "PERMISSION_DENIED", "The provided API key has an IP address restriction.", "API_KEY_IP_ADDRESS_BLOCKED"), "restricted"],
      [403, google(403, "PERMISSION_DENIED", "Requests from this Android client application <empty> are blocked.", "API_KEY_ANDROID_APP_BLOCKED"), "restricted"],
      [403, google(403, "PERMISSION_DENIED", "Generative Language API has not been used in project 1 before or it is disabled.", "SERVICE_DISABLED"), "restricted"],
      [500, google(500, "INTERNAL", "An internal error has occurred."), "unreachable"],
      [503, "<html>Service Unavailable</html>", "unreachable"],
    ];
    for (const [status, body, outcome] of cases) expect(verificationVerdict(status, body).outcome, body).toBe(outcome);
    expect(verificationVerdict(400, google(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"))).toEqual({
      outcome: "invalid",
      message: "API key not valid. Please pass a valid API key.",
    });
    expect(verificationVerdict(503, "<html>").message).toBe("HTTP 503");
    expect(verificationVerdict(200, "{}").message).toBeUndefined();
  });
});
