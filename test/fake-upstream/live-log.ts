// Every Live API session the fake served, with the messages both ways and how it ended,
// so tests can assert what the proxy relayed without trusting the proxy's word.

import type { LogFilter } from "./types.ts";
import type { LiveSessionLogEntry } from "./resource-types.ts";

/** Sessions are few; this only bounds a runaway benchmark. */
const MAX_SESSIONS = 5_000;

export class LiveSessionLog {
  #sessions: LiveSessionLogEntry[] = [];

  reset(): void {
    this.#sessions = [];
  }

  /** Starts a live entry the session fills in as it goes. */
  open(init: Pick<LiveSessionLogEntry, "requestId" | "path" | "apiVersion" | "apiKey">): LiveSessionLogEntry {
    const session: LiveSessionLogEntry = {
      ...init,
      at: Date.now(),
      model: null,
      setupComplete: false,
      received: [],
      sent: [],
      closeCode: null,
      closeReason: null,
      closedBy: null,
      endedAt: null,
    };
    this.#sessions.push(session);
    if (this.#sessions.length > MAX_SESSIONS) this.#sessions.splice(0, this.#sessions.length - MAX_SESSIONS);
    return session;
  }

  /** Copies, so later messages do not change a caller's assertions. */
  snapshot(filter: Pick<LogFilter, "key" | "model"> = {}): LiveSessionLogEntry[] {
    return this.#sessions
      .filter((session) => filter.model === undefined || session.model === filter.model)
      .filter((session) => filter.key === undefined || session.apiKey === filter.key)
      .map((session) => structuredClone(session));
  }
}
