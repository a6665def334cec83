import { describe, expect, it } from "vitest";
import { declaredLength } from "./declared-length";

describe("declaredLength", () => {
  it("reads a byte count, and nothing else, from Content-Length", () => {
    const of = (value?: string) => declaredLength(new Headers(value === undefined ? {} : { "content-length": value }));
    expect(of("0")).toBe(0);
    expect(of("15728640")).toBe(15_728_640);
    for (const odd of [undefined, "", " ", "-1", "1.5", "1e3x", "abc", "99999999999999999999"]) expect(of(odd), String(odd)).toBeUndefined();
  });
});
