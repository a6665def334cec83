import { describe, expect, it } from "vitest";
import { clientAddress, viaHttps } from "./client-address";

const proxies = new Set(["10.0.0.1", "10.0.0.2"]);
const trusted = (address: string): boolean => proxies.has(address);

describe("clientAddress", () => {
  it("is the socket's address when the peer is not trusted, whatever X-Forwarded-For claims", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", trusted)).toBe("203.0.113.9");
    expect(clientAddress("::ffff:203.0.113.9", null, trusted)).toBe("203.0.113.9");
  });

  it("is the right-most untrusted X-Forwarded-For entry from a trusted peer", () => {
    // The client wrote 198.51.100.1; the first proxy saw 203.0.113.9; the second saw the first.
    expect(clientAddress("10.0.0.2", "198.51.100.1, 203.0.113.9, 10.0.0.1", trusted)).toBe("203.0.113.9");
    expect(clientAddress("::ffff:10.0.0.1", "::ffff:203.0.113.9", trusted)).toBe("203.0.113.9");
  });

  it("falls back to the peer, or the left-most hop, when nothing untrusted is left", () => {
    expect(clientAddress("10.0.0.1", null, trusted)).toBe("10.0.0.1");
    expect(clientAddress("10.0.0.1", " , ", trusted)).toBe("10.0.0.1");
    expect(clientAddress("10.0.0.1", "10.0.0.2, 10.0.0.1", trusted)).toBe("10.0.0.2");
  });
});

describe("viaHttps", () => {
  it("is the URL's scheme, or the first X-Forwarded-Proto", () => {
    expect(viaHttps("https://proxy.example/stat", undefined)).toBe(true);
    expect(viaHttps("http://nas:8787/stat", "http")).toBe(false);
    expect(viaHttps("http://nas:8787/stat", "HTTPS, http")).toBe(true);
    expect(viaHttps("http://nas:8787/stat", undefined)).toBe(false);
  });
});
