// Texts the Durable Object keeps (event messages, disable and mark reasons) come from
// Google's error bodies and operators' input: a 5xx body can be hundreds of kilobytes.
// Stored texts are capped, so one answer cannot make /api/events or a key's last event huge.

/** Characters of a stored message or reason; Google's messages are a few hundred at most. */
export const MAX_STORED_TEXT = 1_024;

/** `text` cut to MAX_STORED_TEXT characters, marked with `…` where it was cut. */
export function storedText(text: string): string {
  if (text.length <= MAX_STORED_TEXT) return text;
  let end = MAX_STORED_TEXT - 1;
  // Never split a surrogate pair: half of one is not text.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
