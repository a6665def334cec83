import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { SqlRow, SqlRunner } from "../core/key-store/sql";

// node:sqlite's `prepare` compiles only the first statement of a string and silently
// drops the rest, where the Durable Object's `sql.exec` runs them all. The migrations
// issue one statement per call, but a dropped statement would corrupt a schema without a
// word, so a string with more than one runs through `exec` (or is refused with bindings).

/** Statements are compiled once per distinct query: the key store repeats the same few on every call. */
const MAX_CACHED_STATEMENTS = 256;

function hasMore(query: string, statement: StatementSync): boolean {
  return query.slice(statement.sourceSQL.length).trim() !== "";
}

/** Adapts a node:sqlite database to the key store's SqlRunner. */
export function sqliteRunner(db: DatabaseSync): SqlRunner {
  const statements = new Map<string, StatementSync>();
  const prepared = (query: string): StatementSync | null => {
    let statement = statements.get(query);
    if (statement !== undefined) return statement;
    statement = db.prepare(query);
    if (hasMore(query, statement)) return null;
    if (statements.size >= MAX_CACHED_STATEMENTS) statements.clear();
    statements.set(query, statement);
    return statement;
  };
  return <Row extends SqlRow>(query: string, ...bindings: (string | number | null)[]): Row[] => {
    const statement = prepared(query);
    if (statement === null) {
      if (bindings.length > 0) throw new Error("SqlRunner: bind values to one statement at a time");
      db.exec(query);
      return [];
    }
    // A statement that returns no rows (CREATE, INSERT without RETURNING) is run, not iterated.
    if (statement.columns().length === 0) {
      statement.run(...bindings);
      return [];
    }
    return statement.all(...bindings) as Row[];
  };
}

/**
 * Runs `body` in one transaction: committed when it returns, rolled back when it throws.
 * A call inside another joins it (a savepoint would buy nothing: the outer one decides).
 */
export function sqliteTransaction(db: DatabaseSync): <T>(body: () => T) => T {
  return <T>(body: () => T): T => {
    if (db.isTransaction) return body();
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  };
}
