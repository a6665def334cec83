// The same pool runs as a Worker (API_KEYS is a secret) and as a Node server (API_KEYS is
// in its environment or .env): every message about an API_KEYS key has to be true on both.

/** How to take a key that comes from API_KEYS out of the pool, on either runtime. */
export const REMOVE_FROM_API_KEYS = "remove it from API_KEYS — the Worker's secret, or the Node server's environment — and redeploy or restart";

/** Where a key's group from API_KEYS (group:key) is changed, on either runtime. */
export const CHANGE_IN_API_KEYS = "change it in API_KEYS — the Worker's secret, or the Node server's environment — and redeploy or restart";
