// Secrets and optional vars that `wrangler types` cannot see in wrangler.jsonc.
declare namespace Cloudflare {
  interface Env {
    /** Client token(s), comma-separated. Unset: the proxy is open to anyone. */
    PROXY_API_KEY?: string;
    /** "false" silences the one-line-per-request log. */
    LOG_REQUESTS?: string;
  }
}
