// Optional vars that `wrangler types` cannot see in wrangler.jsonc (they have no default there).
declare namespace Cloudflare {
  interface Env {
    /** "false" silences the one-line-per-request log. */
    LOG_REQUESTS?: string;
  }
}
