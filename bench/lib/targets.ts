// The three things measured side by side. A target is just a name and an origin; the
// processes behind it are found by port when memory is sampled.

export type TargetName = "proxy" | "floor" | "direct";

export interface Target {
  name: TargetName;
  origin: string;
}

/** A/B alternation: even rounds in the given order, odd rounds reversed, so drift cancels. */
export function roundOrder<T>(targets: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...targets] : [...targets].reverse();
}
