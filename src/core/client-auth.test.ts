import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isAcceptedToken, parseProxyTokens, weakTokenProblem } from "./client-auth";

// The token check: right answers for every input, and the same work whatever the
// presented token is (every configured token is hashed and compared, no early exit),
// so response timing tells nothing about how close a guess was.

afterEach(() => {
  vi.restoreAllMocks();
});

describe("isAcceptedToken", () => {
  it("accepts exactly the configured token, nothing close to it", async () => {
    const token = "s3cret-proxy-token";
    expect(await isAcceptedToken(token, [token])).toBe(true);
    for (const guess of ["", " ", "s3cret-proxy-toke", "s3cret-proxy-tokenx", "S3CRET-PROXY-TOKEN", "s3cret-proxy-tokeN", `${token}\u0000`]) {
      expect(await isAcceptedToken(guess, [token]), JSON.stringify(guess)).toBe(false);
    }
    expect(await isAcceptedToken(token, [])).toBe(false);
  });

  it("accepts each of several comma-separated tokens and nothing else", async () => {
    const tokens = parseProxyTokens(" alpha-token , beta ,, γάμμα-token,");
    expect(tokens).toEqual(["alpha-token", "beta", "γάμμα-token"]);
    for (const token of tokens) expect(await isAcceptedToken(token, tokens), token).toBe(true);
    for (const guess of ["alpha-token,beta", "alpha", "betabeta", " beta", "γάμμα", ""]) {
      expect(await isAcceptedToken(guess, tokens), guess).toBe(false);
    }
  });

  it("agrees with plain equality on arbitrary tokens", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.array(fc.string({ minLength: 1 }), { maxLength: 4 }), async (presented, tokens) => {
        expect(await isAcceptedToken(presented, tokens)).toBe(tokens.includes(presented));
      }),
      { numRuns: 200 },
    );
  });

  it("hashes the presented token once per check and the configured tokens once per list, matched early, late or not at all", async () => {
    const tokens = ["first-token", "second-token", "third-token"];
    const digest = vi.spyOn(crypto.subtle, "digest");
    await isAcceptedToken("warm-up", tokens);
    expect(digest).toHaveBeenCalledTimes(tokens.length + 1);
    for (const presented of ["first-token", "third-token", "nobody"]) {
      digest.mockClear();
      await isAcceptedToken(presented, tokens);
      expect(digest, presented).toHaveBeenCalledTimes(1);
    }
  });
});

describe("weakTokenProblem", () => {
  it("names the README's placeholder and short tokens in either setting, and passes long ones", () => {
    expect(weakTokenProblem({ PROXY_API_KEY: "choose-a-long-random-token" })).toContain("placeholder");
    expect(weakTokenProblem({ PROXY_API_KEY: "a-long-enough-token, short" })).toContain("5 characters");
    expect(weakTokenProblem({ ADMIN_API_KEY: "admin" })).toContain("ADMIN_API_KEY");
    expect(weakTokenProblem({ PROXY_API_KEY: "sixteen-chars-ok", ADMIN_API_KEY: "" })).toBeNull();
    expect(weakTokenProblem({})).toBeNull();
  });
});
