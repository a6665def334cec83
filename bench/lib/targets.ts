// The things measured side by side. A target is a name and an origin; the processes
// behind a `wrangler dev` target are found by port when memory is sampled, the Node
// server's by the pid the bench started it with.

/** proxy: the Worker under `wrangler dev`; node: the same proxy as the Node server. */
export type TargetName = "proxy" | "node" | "floor" | "direct";

export interface Target {
  name: TargetName;
  origin: string;
  /** The one process that serves it, when the bench started it itself (the Node server). */
  pid?: number;
}

/** A/B alternation: even rounds in the given order, odd rounds reversed, so drift cancels. */
export function roundOrder<T>(targets: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...targets] : [...targets].reverse();
}
