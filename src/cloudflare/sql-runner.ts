import type { SqlRow, SqlRunner, SqlValue } from "../core/key-store/sql";

/** Adapts a Durable Object's SQLite storage to the key store's SqlRunner. */
export function sqlRunner(sql: SqlStorage): SqlRunner {
  return <Row extends SqlRow>(query: string, ...bindings: SqlValue[]) => sql.exec<Row>(query, ...bindings).toArray();
}
