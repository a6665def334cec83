import { describe, expect, it } from "vitest";
import { classifyUpstream, parseDuration } from "./upstream-outcome";

const help = { "@type": "type.googleapis.com/google.rpc.Help", links: [{ description: "Learn more", url: "https://ai.google.dev/gemini-api/docs/rate-limits" }] };

function quota429(quotaId: string, retryDelay?: string): string {
  const details: unknown[] = [
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [{ quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests", quotaId }],
    },
    help,
  ];
  if (retryDelay !== undefined) details.push({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay });
  return JSON.stringify({
    error: { code: 429, status: "RESOURCE_EXHAUSTED", message: "You exceeded your current quota. Please retry in 26.04s.", details },
  });
}

describe("classifyUpstream", () => {
  it("reads a per-day QuotaFailure as exhaustion for the day, whatever the detail order", () => {
    expect(classifyUpstream(429, quota429("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "26s"))).toMatchObject({
      kind: "quota-day",
    });
    const reordered = JSON.parse(quota429("GenerateRequestsPerDayPerProjectPerModel")) as { error: { details: unknown[] } };
    reordered.error.details.reverse();
    expect(classifyUpstream(429, JSON.stringify(reordered))).toMatchObject({ kind: "quota-day" });
  });

  it("reads per-minute request and token quotas as a cooldown of retryDelay", () => {
    expect(classifyUpstream(429, quota429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "45.837906927s"))).toEqual({
      kind: "quota-minute",
      reason: "You exceeded your current quota. Please retry in 26.04s.",
      retryAfterMs: 45_838,
    });
    expect(classifyUpstream(429, quota429("GenerateContentInputTokensPerModelPerMinute-FreeTier"))).toMatchObject({
      kind: "quota-minute",
      retryAfterMs: 60_000,
    });
  });

  it("reads the OpenAI-compatible endpoint's array-wrapped envelope", () => {
    const wrapped = `[${quota429("GenerateRequestsPerDayPerProjectPerModel-FreeTier")}]`;
    expect(classifyUpstream(429, wrapped)).toMatchObject({ kind: "quota-day" });
  });

  it("treats a bare 429 as an unknown quota", () => {
    const bare = JSON.stringify({ error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" } });
    expect(classifyUpstream(429, bare)).toEqual({ kind: "quota-unknown", reason: "Resource has been exhausted (e.g. check quota)." });
    expect(classifyUpstream(429, "<html>Too many</html>")).toMatchObject({ kind: "quota-unknown" });
  });

  it("disables invalid and suspended keys", () => {
    const invalid = JSON.stringify({
      error: {
        code: 400,
        message: "API key not valid. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" }],
      },
    });
    expect(classifyUpstream(400, invalid)).toMatchObject({ kind: "key-disabled" });
    const suspended = JSON.stringify({
      error: { code: 403, message: "Permission denied: Consumer 'api_key:AIzaX' has been suspended.", status: "PERMISSION_DENIED" },
    });
    expect(classifyUpstream(403, suspended)).toMatchObject({ kind: "key-disabled" });
    const denied = JSON.stringify({ error: { code: 403, message: "Your project has been denied access. Please contact support.", status: "PERMISSION_DENIED" } });
    expect(classifyUpstream(403, denied)).toMatchObject({ kind: "key-disabled" });
  });

  it("disables keys restricted to websites or apps, which the proxy can never satisfy", () => {
    for (const reason of ["API_KEY_HTTP_REFERRER_BLOCKED", "API_KEY_ANDROID_APP_BLOCKED", "API_KEY_IOS_APP_BLOCKED", "API_KEY_IP_ADDRESS_BLOCKED"]) {
      const blocked = JSON.stringify({
        error: {
          code: 403,
          message: "Requests from referer <empty> are blocked.",
          status: "PERMISSION_DENIED",
          details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "googleapis.com" }],
        },
      });
      expect(classifyUpstream(403, blocked), reason).toMatchObject({ kind: "key-disabled", reason: "Requests from referer <empty> are blocked." });
    }
  });

  it("leaves client errors to the client and retries server errors elsewhere", () => {
    const fileDenied = JSON.stringify({
      error: { code: 403, message: "You do not have permission to access the File abc or it may not exist.", status: "PERMISSION_DENIED" },
    });
    expect(classifyUpstream(403, fileDenied)).toEqual({ kind: "client-error" });
    const notFound = JSON.stringify({ error: { code: 404, message: "models/x is not found for API version v1beta", status: "NOT_FOUND" } });
    expect(classifyUpstream(404, notFound)).toEqual({ kind: "client-error" });
    const location = JSON.stringify({ error: { code: 400, message: "User location is not supported for the API use.", status: "FAILED_PRECONDITION" } });
    expect(classifyUpstream(400, location)).toEqual({ kind: "client-error" });
    expect(classifyUpstream(503, '{"error":{"code":503,"message":"The model is overloaded."}}')).toEqual({ kind: "transient" });
    expect(classifyUpstream(500, "")).toEqual({ kind: "transient" });
  });
});

describe("parseDuration", () => {
  it("parses protobuf durations with fractions", () => {
    expect(parseDuration("26s")).toBe(26_000);
    expect(parseDuration("0.5s")).toBe(500);
    expect(parseDuration("1m")).toBeNull();
    expect(parseDuration(undefined)).toBeNull();
  });
});

function violations429(violations: unknown, retryDelay = "26s"): string {
  return JSON.stringify({
    error: {
      code: 429,
      status: "RESOURCE_EXHAUSTED",
      message: "You exceeded your current quota.",
      details: [
        { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay },
      ],
    },
  });
}

const violation = (quotaId: string, quotaValue: unknown, model = "gemini-2.5-flash") => ({
  quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
  quotaId,
  quotaDimensions: { location: "global", model },
  quotaValue,
});

describe("the limits a quota 429 teaches", () => {
  it("reads the window and value of each violation", () => {
    expect(classifyUpstream(429, violations429([violation("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "250")]))).toMatchObject({
      kind: "quota-day",
      limits: [{ window: "rpd", value: 250 }],
    });
    const several = classifyUpstream(
      429,
      violations429([
        violation("GenerateContentInputTokensPerModelPerMinute-FreeTier", "250000"),
        violation("GenerateRequestsPerMinutePerProjectPerModel", "10"),
      ]),
    );
    expect(several).toMatchObject({ kind: "quota-minute", retryAfterMs: 26_000 });
    expect(several.kind === "quota-minute" ? several.limits : undefined).toEqual(
      expect.arrayContaining([
        { window: "tpm", value: 250_000 },
        { window: "rpm", value: 10 },
      ]),
    );
  });

  it("skips values that are not whole numbers and violations it cannot read, without failing", () => {
    for (const value of [undefined, "", "ten", "1.5", "-3", "99999999999999999999", null, { n: 1 }]) {
      const fault = classifyUpstream(429, violations429([violation("GenerateRequestsPerMinutePerProjectPerModel", value)]));
      expect(fault).toMatchObject({ kind: "quota-minute" });
      expect(fault).not.toHaveProperty("limits");
    }
    for (const odd of [null, "x", [null, 3, "y"], [{ quotaId: 5, quotaValue: "3" }]]) {
      expect(classifyUpstream(429, violations429(odd)).kind).toMatch(/^quota-/);
    }
  });

  it("treats a limit of 0 as the model being out for the day, whatever the window", () => {
    expect(classifyUpstream(429, violations429([violation("GenerateRequestsPerMinutePerProjectPerModel", "0")]))).toMatchObject({
      kind: "quota-day",
      limits: [{ window: "rpm", value: 0 }],
    });
  });

  it("keeps the smallest value when a window is named twice, e.g. for another model", () => {
    const fault = classifyUpstream(
      429,
      violations429([
        violation("GenerateRequestsPerMinutePerProjectPerModel", "15", "gemini-2.5-pro"),
        violation("GenerateRequestsPerMinutePerProjectPerModel", "10"),
      ]),
    );
    expect(fault).toMatchObject({ kind: "quota-minute", limits: [{ window: "rpm", value: 10 }] });
  });
});
