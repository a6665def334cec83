import { describe, expect, it } from "vitest";
import { outgoingBody, SLOW_UPLOAD_BYTES_PER_SECOND, uploadTimeMs } from "./outgoing-body";
import { standardStreams } from "./stream-runtime";

// When UPSTREAM_TIMEOUT_MS starts counting for each kind of body an attempt sends.

const sized = (length: number): Headers => new Headers({ "content-length": String(length) });

/** A stream that has sent one piece and sends its last only when `finish` is called. */
function pendingUpload(): { stream: ReadableStream<Uint8Array>; finish: () => void } {
  let finish = (): void => undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array([1, 2]));
      finish = () => {
        controller.enqueue(new Uint8Array([3]));
        controller.close();
      };
    },
  });
  return { stream, finish: () => finish() };
}

async function settledWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
}

describe("an attempt's outgoing body", () => {
  it("in memory: sent at once, no upload time", async () => {
    const bytes = new Uint8Array(200_000);
    const outgoing = outgoingBody(bytes, false, sized(bytes.byteLength), standardStreams);
    expect(outgoing.body).toBe(bytes);
    expect(outgoing.uploadMs).toBe(0);
    expect(outgoing.length).toBeUndefined();
    expect(await settledWithin(outgoing.sent, 50)).toBe(true);
  });

  it("a streamed upload: sent once the client's last byte went through, with its declared length", async () => {
    const upload = pendingUpload();
    const outgoing = outgoingBody(upload.stream, false, sized(3), standardStreams);
    expect(outgoing.body).not.toBe(upload.stream);
    expect(outgoing.uploadMs).toBe(0);
    expect(outgoing.length).toBe(3);
    const received = new Response(outgoing.body as ReadableStream<Uint8Array>).arrayBuffer();
    expect(await settledWithin(outgoing.sent, 50)).toBe(false);
    upload.finish();
    expect(await settledWithin(outgoing.sent, 1_000)).toBe(true);
    expect([...new Uint8Array(await received)]).toEqual([1, 2, 3]);
  });

  it("a large body's branch: sent as it is, its wait lengthened by the time its upload may take", async () => {
    const upload = pendingUpload();
    const length = 20 * 1024 * 1024;
    const outgoing = outgoingBody(upload.stream, true, sized(length), standardStreams);
    expect(outgoing.body).toBe(upload.stream);
    expect(outgoing.length).toBe(length);
    expect(outgoing.uploadMs).toBe((length / SLOW_UPLOAD_BYTES_PER_SECOND) * 1000);
    expect(await settledWithin(outgoing.sent, 50)).toBe(true);
  });

  it("gives one second per 64 KiB", () => {
    expect(uploadTimeMs(0)).toBe(0);
    expect(uploadTimeMs(64 * 1024)).toBe(1_000);
    expect(uploadTimeMs(15_000_000)).toBe(228_882);
  });
});
