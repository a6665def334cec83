import type { Stoppable } from "./daily-reset";

// The Durable Object works through a verification job one alarm at a time, each within an
// invocation's subrequest limit. In-process the batches run back to back on timers, one
// at a time, as alarms would; `wake` during a run asks for one more run after it.

export interface VerificationRunner extends Stoppable {
  wake(): Promise<void>;
}

/** `runBatch` answers true while keys are left; `track` keeps each run for the shutdown to await. */
export function verificationRunner(runBatch: () => Promise<boolean>, track: (run: Promise<unknown>) => void): VerificationRunner {
  let running = false;
  let again = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async (): Promise<void> => {
    running = true;
    try {
      again = (await runBatch()) || again;
    } catch (error) {
      console.error(`Verification batch failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      schedule();
    }
  };
  const schedule = (): void => {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      track(run());
    }, 0);
  };
  return {
    async wake() {
      if (running) again = true;
      else schedule();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
