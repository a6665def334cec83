import type { Stoppable } from "./daily-reset";

// The Durable Object works through a verification job one alarm at a time, each run within
// an invocation's subrequest limit, and sets its alarm for the next run. In-process one
// timer plays the alarm: the batches run one at a time, each run says when the next is due,
// and `wake` brings the next run forward to now (a run in progress gets one more after it).

export interface VerificationRunner extends Stoppable {
  wake(): Promise<void>;
}

/** setTimeout's longest delay (about 24.8 days); a later run is re-armed when this fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * `runBatch` runs one batch and answers when the next is due (epoch ms), or null when none
 * is; `track` keeps each run for the shutdown to await.
 */
export function verificationRunner(
  runBatch: () => Promise<number | null>,
  track: (run: Promise<unknown>) => void,
  report: (message: string) => void = console.error,
): VerificationRunner {
  let running = false;
  let again = false;
  let stopped = false;
  let timer: { handle: ReturnType<typeof setTimeout>; at: number } | undefined;

  const arm = (at: number): void => {
    if (stopped || (timer !== undefined && timer.at <= at)) return;
    if (timer !== undefined) clearTimeout(timer.handle);
    const handle = setTimeout(
      () => {
        timer = undefined;
        if (Date.now() >= at) track(run());
        else arm(at);
      },
      Math.min(MAX_DELAY_MS, Math.max(0, at - Date.now())),
    );
    // Never what keeps the process alive: the server is.
    handle.unref();
    timer = { handle, at };
  };

  const run = async (): Promise<void> => {
    running = true;
    let next: number | null = null;
    try {
      next = await runBatch();
    } catch (error) {
      report(`Verification batch failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      next = Date.now();
    }
    if (next !== null) arm(next);
  };

  return {
    async wake() {
      if (running) again = true;
      else arm(Date.now());
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer.handle);
    },
  };
}
