/**
 * A reason the server cannot start that the operator can fix. main.ts prints its message
 * as the one line on stderr and exits non-zero; nothing has been deleted or overwritten.
 */
export class StartupFault extends Error {
  override readonly name = "StartupFault";
}

/** The system's reason, without Node's error-code prefix noise. */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
