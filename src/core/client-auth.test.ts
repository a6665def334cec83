import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isAcceptedToken, parseProxyTokens, weakTokenProblem } from "./client-auth";

// The token check: right answers for every input, and the same work whatever the
// presented token is (every configured token is compared to the end of the presented
// one, no early exit), so response timing tells nothing about how close a guess was.

describe("isAcceptedToken", () => {
  it("accepts exactly the configured token, nothing close to it", () => {
    const token = "s3cret-proxy-token";
    expect(isAcceptedToken(token, [token])).toBe(true);
    for (const guess of ["", " ", "s3cret-proxy-toke", "s3cret-proxy-tokenx", "S3CRET-PROXY-TOKEN", "s3cret-proxy-tokeN", `${token}\u0000`]) {
      expect(isAcceptedToken(guess, [token]), JSON.stringify(guess)).toBe(false);
    }
    expect(isAcceptedToken(token, [])).toBe(false);
  });

  it("accepts each of several comma-separated tokens and nothing else", () => {
    const tokens = parseProxyTokens(" alpha-token , beta ,, γάμμα-token,");
    expect(tokens).toEqual(["alpha-token", "beta", "γάμμα-token"]);
    for (const token of tokens) expect(isAcceptedToken(token, tokens), token).toBe(true);
    for (const guess of ["alpha-token,beta", "alpha", "betabeta", " beta", "γάμμα", ""]) {
      expect(isAcceptedToken(guess, tokens), guess).toBe(false);
    }
  });

  it("agrees with plain equality on arbitrary tokens", () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string({ minLength: 1 }), { maxLength: 4 }), (presented, tokens) => {
        expect(isAcceptedToken(presented, tokens)).toBe(tokens.includes(presented));
      }),
      { numRuns: 200 },
    );
  });

  it("reads every configured token, matched early, late or not at all", () => {
    const tokens = ["first-token", "second-token", "third-token"];
    for (const presented of ["first-token", "third-token", "nobody"]) {
      const read = new Set<string>();
      const watched = new Proxy(tokens, {
        get(target, property, receiver): unknown {
          if (typeof property === "string" && /^\d+$/.test(property)) read.add(property);
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
      isAcceptedToken(presented, watched);
      expect([...read].sort(), presented).toEqual(["0", "1", "2"]);
    }
  });

  it("compares as many code units whatever the configured token's length", () => {
    // The loop runs over the presented token only: a configured token shorter or longer
    // than the guess is wrapped or cut, never a reason to stop early.
    expect(isAcceptedToken("abcabc", ["abc"])).toBe(false);
    expect(isAcceptedToken("abc", ["abcabc"])).toBe(false);
    expect(isAcceptedToken("", ["abc"])).toBe(false);
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
