// How the teed meter (teed-meter.ts) reads its counting branch: everything that has
// arrived at once, so that it may rest between reads instead of waking for every chunk.

/** Reads a byte stream a piece at a time: all that has arrived, up to the reader's buffer. */
export interface PieceReader {
  /**
   * The most one read returns. A shorter piece means the reader took everything that had
   * arrived, so the reader may rest; 0 when that cannot be told (then it never rests).
   */
  readonly capacity: number;
  /** The next piece (at least one byte), or null once the stream has ended. Rejects when it fails. */
  read(): Promise<Uint8Array | null>;
  /** Stops reading: a pending read ends as if the stream had ended. */
  cancel(reason: unknown): Promise<void>;
}

/** One buffer per body, reused for every read: the meter copies what it keeps. */
const PIECE_BYTES = 256 * 1024;

/**
 * Reads a byte stream (a fetch body) with BYOB reads into one large buffer: each read
 * hands over everything that has arrived, up to the buffer, at once, instead of every
 * chunk the network delivered, so the reader may rest between reads.
 * `most`: an upper bound on what one read needs to take, when known (a declared length).
 */
export function byobPieces(stream: ReadableStream<Uint8Array>, most?: number): PieceReader {
  const reader = stream.getReader({ mode: "byob" });
  // A small answer's buffer is its size: a fresh 256 KiB for each was measurable.
  const capacity = Math.min(PIECE_BYTES, most ?? PIECE_BYTES);
  let buffer = new ArrayBuffer(capacity);
  return {
    capacity,
    async read() {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (value !== undefined) buffer = value.buffer;
      return done || value === undefined ? null : value;
    },
    cancel: (reason) => reader.cancel(reason),
  };
}
