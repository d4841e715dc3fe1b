/**
 * The capture index schema, as versioned migrations the runtime applies on the writer when it
 * connects (under an advisory lock, each in its own transaction, recorded with a checksum so an
 * edited migration is detected rather than silently skipped). Append new migrations; never edit
 * or reorder applied ones.
 */
import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS_TABLE = 'onnx_fleet_schema_migrations';
/** pg_advisory_xact_lock key: "onnxflt" in ASCII, so concurrent runtimes migrate one at a time. */
const LOCK_KEY = 0x6f6e6e78666c74;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'capture_records',
    sql: `
      CREATE TABLE capture_records (
        id             uuid PRIMARY KEY,
        model          text        NOT NULL,
        model_version  text        NOT NULL,
        captured_at    timestamptz NOT NULL,
        shard          text        NOT NULL,
        object_key     text        NOT NULL,
        request_id     text,
        partition_key  text,
        status         smallint    NOT NULL,
        latency_us     bigint      NOT NULL,
        indexed_at     timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX capture_records_model_time ON capture_records (model, captured_at);`,
  },
  {
    version: 2,
    name: 'model_usage',
    sql: `
      CREATE TABLE model_usage (
        model           text   NOT NULL,
        model_version   text   NOT NULL,
        day             date   NOT NULL,
        records         bigint NOT NULL DEFAULT 0,
        errors          bigint NOT NULL DEFAULT 0,
        latency_us_sum  bigint NOT NULL DEFAULT 0,
        request_bytes   bigint NOT NULL DEFAULT 0,
        response_bytes  bigint NOT NULL DEFAULT 0,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model, model_version, day)
      );`,
  },
  {
    version: 3,
    name: 'capture_records_payload_sizes',
    sql: `
      ALTER TABLE capture_records ADD COLUMN request_bytes integer NOT NULL DEFAULT 0;
      ALTER TABLE capture_records ADD COLUMN response_bytes integer NOT NULL DEFAULT 0;`,
  },
];

export const checksum = (m: Migration): string => createHash('sha256').update(m.sql.replace(/\s+/g, ' ').trim()).digest('hex').slice(0, 16);

export interface MigrationResult {
  applied: number[];
  current: number;
}

export class MigrationError extends Error {}

/** Applies every pending migration. Safe to call on every (re)connect: with nothing pending it is one query. */
export async function migrate(client: ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`);
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const row = done.get(m.version);
      if (row && row.checksum !== checksum(m)) {
        throw new MigrationError(`migration ${m.version} (${m.name}) was applied with checksum ${row.checksum}, but this runtime has ${checksum(m)}: applied migrations must never change`);
      }
    }
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, checksum(m)]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  const known = Math.max(0, ...migrations.map((m) => m.version));
  return { applied, current: known };
}
