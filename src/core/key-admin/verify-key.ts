import type { ProxyConfig } from "../config";
import { verificationVerdict, type VerificationVerdict } from "./verification-outcome";

/**
 * Google answers a model list in well under a second; this long means it is not answering.
 * Under the 10 s the proxy waits for the key manager, so a single check answers in time.
 */
const VERIFY_TIMEOUT_MS = 8_000;

/** Asks Google for one model with the key: no generation quota is spent. */
export async function verifyKey(
  secret: string,
  config: Pick<ProxyConfig, "geminiBase" | "defaultVersion">,
  timeoutMs = VERIFY_TIMEOUT_MS,
): Promise<VerificationVerdict> {
  try {
    const response = await fetch(`${config.geminiBase}/${config.defaultVersion}/models?pageSize=1`, {
      headers: { "x-goog-api-key": secret },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return verificationVerdict(response.status, await response.text());
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      outcome: "unreachable",
      message: timedOut ? `Google did not answer within ${timeoutMs} ms.` : `Could not reach Google: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
