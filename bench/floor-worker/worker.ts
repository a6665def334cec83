// A bare pass-through: swap the client's token for a pool key, forward, return the upstream
// response as it is (streamed). No auth check, no key choice, no accounting: the floor.

interface FloorEnv {
  UPSTREAM_ORIGIN: string;
  UPSTREAM_KEY: string;
}

export default {
  async fetch(request: Request, env: FloorEnv): Promise<Response> {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set("x-goog-api-key", env.UPSTREAM_KEY);
    return fetch(`${env.UPSTREAM_ORIGIN}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
    });
  },
};
