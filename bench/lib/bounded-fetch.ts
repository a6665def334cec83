// Sends `count` requests with at most `concurrency` in flight; a bounded loop that ends
// by itself. Returns the status of each, in completion order; a request that failed at
// the connection level (e.g. wrangler dev reloading under it) counts as status 0 rather
// than ending the whole run.

export async function sendMany(count: number, concurrency: number, send: () => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      try {
        const response = await send();
        await response.arrayBuffer();
        statuses.push(response.status);
      } catch {
        statuses.push(0);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return statuses;
}
