// Optional vars that `wrangler types` cannot see in wrangler.jsonc (they have no default there).
declare namespace Cloudflare {
  interface Env {
    /** "false" silences the one-line-per-request log. */
    LOG_REQUESTS?: string;
    /** Optional: the token(s) that may change the pool; PROXY_API_KEY holders then only view /stat. */
    ADMIN_API_KEY?: string;
  }
}
