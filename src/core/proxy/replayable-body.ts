import { LongerThanDeclared, type StreamRuntime } from "./stream-runtime";

// A large request body is not read into memory unless it must be. Reading 15 MB into
// one buffer to replay it cost about as much CPU as the Workers Free plan grants a
// whole request; moving it through one tee() costs a few ms. The first attempt sends
// one branch as it is (Workers keep the request's length on it, so the upload has its
// Content-Length; outgoing-body.ts says why it is not piped). The other branch is read only as far as its start, where the
// model and resource names are looked for, and its rest stays unread, as the copy for
// a retry: only a retry on another key (a 429, even after the key took the body whole)
// reads the body whole, natively, into one buffer of its declared length, and sends those
// same bytes: the body is held once, not once per copy a read and a join would make.

export class ReplayableBody {
  /** The first attempt's branch, untouched until that attempt takes it. */
  #first: ReadableStream<Uint8Array> | null;
  /** The start of the body, as searched; all of it once read whole. */
  #start: Uint8Array;
  /** The unread rest after the start; null once the body was read whole. */
  #rest: ReadableStream<Uint8Array> | null;

  /** The length the body declared: the size of the one buffer a whole read fills. */
  readonly #length: number;
  readonly #streams: StreamRuntime;

  private constructor(first: ReadableStream<Uint8Array>, start: Uint8Array, rest: ReadableStream<Uint8Array>, length: number, streams: StreamRuntime) {
    this.#first = first;
    this.#start = start;
    this.#rest = rest;
    this.#length = length;
    this.#streams = streams;
  }

  /** Keeps a body of declared `length` replayable, having read its first `bytes` (or more). */
  static async of(body: ReadableStream<Uint8Array>, length: number, bytes: number, streams: StreamRuntime): Promise<ReplayableBody> {
    const [first, copy] = body.tee();
    return new ReplayableBody(first, await streams.readStart(copy, bytes), copy, length, streams);
  }

  /** The part read so far: the whole body after whole(). */
  get start(): Uint8Array {
    return this.#start;
  }

  /** Whether `start` is the whole body. */
  get complete(): boolean {
    return this.#rest === null;
  }

  /**
   * The body for one attempt: the first takes its branch as it is; a retry, rare, takes
   * the body read whole (natively), so it too goes with its length.
   */
  async next(): Promise<Uint8Array | ReadableStream<Uint8Array>> {
    const first = this.#first;
    if (first === null) return this.whole();
    this.#first = null;
    return first;
  }

  /**
   * Reads the body whole (its rest natively, in one call, into one buffer) and keeps it: for the rare
   * request whose start does not settle what the proxy must know about it.
   */
  async whole(): Promise<Uint8Array> {
    // Read before any attempt: the first attempt's branch would hold a second copy meanwhile.
    void this.#first?.cancel().catch(() => undefined);
    this.#first = null;
    const rest = this.#rest;
    if (rest === null) return this.#start;
    this.#rest = null;
    const start = this.#start;
    if (start.byteLength > this.#length) throw new LongerThanDeclared("The body is longer than its declared length.");
    const whole = new Uint8Array(this.#length);
    whole.set(start);
    this.#start = await this.#streams.fill(rest, whole, start.byteLength);
    return this.#start;
  }

  /** Drops what is kept for attempts: none will follow. */
  release(): void {
    for (const stream of [this.#first, this.#rest]) void stream?.cancel().catch(() => undefined);
    this.#first = null;
    this.#rest = null;
  }
}
