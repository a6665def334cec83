// The one storage primitive the key store needs. Cloudflare's `ctx.storage.sql` and
// Node's `node:sqlite` both fit it with a one-line adapter, which keeps the store runtime-neutral.

export type SqlValue = string | number | null;

export type SqlRow = Record<string, SqlValue>;

/** Runs one statement synchronously and returns its rows. */
export type SqlRunner = <Row extends SqlRow = SqlRow>(query: string, ...bindings: SqlValue[]) => Row[];
