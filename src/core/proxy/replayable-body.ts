import type { StreamRuntime } from "./stream-runtime";

// A large request body is never read by JavaScript. Reading 15 MB into one buffer to
// replay it on retries cost about as much CPU as the Workers Free plan grants a whole
// request; moving it through tee() costs next to nothing. Each attempt sends one branch
// of a tee as it is, and the other branch stays, unread, as the copy for the next
// attempt: a retry on another key sends the same bytes, even after a key answered 429
// to a body it had taken whole. A third branch is read only as far as its start, where
// the model and resource names are looked for. (Workers keep the request's length on
// every branch, so each upload goes with its Content-Length.)

export class ReplayableBody {
  /** The start of the body, as searched; all of it once read whole. */
  #start: Uint8Array;
  /** The unread copy for the next attempt; null once the body was read whole. */
  #copy: ReadableStream<Uint8Array> | null;

  private constructor(start: Uint8Array, copy: ReadableStream<Uint8Array>) {
    this.#start = start;
    this.#copy = copy;
  }

  /** Keeps `body` replayable, having read its first `bytes` (or more). */
  static async of(body: ReadableStream<Uint8Array>, bytes: number, streams: StreamRuntime): Promise<ReplayableBody> {
    const [searched, copy] = body.tee();
    return new ReplayableBody(await streams.readStart(searched, bytes), copy);
  }

  /** The part read so far: the whole body after whole(). */
  get start(): Uint8Array {
    return this.#start;
  }

  /** Whether `start` is the whole body. */
  get complete(): boolean {
    return this.#copy === null;
  }

  /** The body for one attempt. */
  next(): Uint8Array | ReadableStream<Uint8Array> {
    return this.#takeCopy() ?? this.#start;
  }

  /**
   * Reads the body whole (natively, in one call) and keeps it: for the rare request
   * whose start does not settle what the proxy must know about it.
   */
  async whole(): Promise<Uint8Array> {
    const copy = this.#takeCopy();
    if (copy === null) return this.#start;
    this.#start = new Uint8Array(await new Response(copy).arrayBuffer());
    this.release();
    return this.#start;
  }

  /** Drops the replay copy: no attempt will follow. */
  release(): void {
    const copy = this.#copy;
    this.#copy = null;
    void copy?.cancel().catch(() => undefined);
  }

  /** One branch of the copy, keeping the other for later. */
  #takeCopy(): ReadableStream<Uint8Array> | null {
    if (this.#copy === null) return null;
    const [now, later] = this.#copy.tee();
    this.#copy = later;
    return now;
  }
}
