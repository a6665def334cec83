/**
 * The body length a message's Content-Length declares; undefined when it declares none,
 * or something that is not a byte count (the body's own framing then decides).
 */
export function declaredLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  if (value === null || value.trim() === "") return undefined;
  const length = Number(value);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}
