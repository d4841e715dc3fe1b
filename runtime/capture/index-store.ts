/**
 * The capture index in PostgreSQL: one row per captured record and per-model usage counters,
 * written to the primary in batches; queries read from a replica and fall back to the primary.
 *
 * The writer endpoint is what a deployment gives the runtime for "the primary": a DNS name that
 * follows failover (RDS, CloudNativePG's -rw service) or a libpq-style host list,
 * postgresql://user@h1:5432,h2:5432/db?target_session_attrs=read-write. On every (re)connect the
 * writer tries each host and keeps the first that is not in recovery; any error drops the
 * connection, so the next batch connects again and finds the promoted primary without a restart.
 * Inserts are idempotent (primary key = record id, ON CONFLICT DO NOTHING) and the usage counters
 * only count rows that were really inserted, in the same statement, so a replay never double counts.
 * No committed batch is lost on failover when the primary replicates synchronously (RDS Multi-AZ,
 * CloudNativePG with synchronous replicas, or synchronous_standby_names).
 */
import { Client } from 'pg';
import type { Logger } from 'pino';
import { migrate } from './migrations';
import { PgHost, PgTarget, parsePostgresUrl } from './pg-url';

export type { PgHost, PgTarget } from './pg-url';
export { PgUrlError, parsePostgresUrl, redactUrl } from './pg-url';

export interface ConnectOptions {
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  applicationName?: string;
  logger?: Logger;
}

export interface Connected {
  client: Client;
  host: PgHost;
  inRecovery: boolean;
}

/**
 * Connects to the first host of `target` that satisfies `want` ('read-write': not in recovery;
 * 'any': whichever answers first). Throws when none does, naming each host's reason.
 */
export async function connect(target: PgTarget, want: 'read-write' | 'any', options: ConnectOptions = {}): Promise<Connected> {
  const reasons: string[] = [];
  for (const host of target.hosts) {
    const client = new Client({
      host: host.host,
      port: host.port,
      user: target.user,
      password: target.password,
      database: target.database,
      ssl: target.ssl,
      connectionTimeoutMillis: target.connectTimeoutMs ?? options.connectTimeoutMs ?? 2000,
      query_timeout: options.queryTimeoutMs ?? 10_000,
      keepAlive: true,
      application_name: target.applicationName ?? options.applicationName ?? 'onnx-fleet',
    });
    // A connection that dies while idle emits 'error'; unhandled it would crash the process.
    client.on('error', (err) => options.logger?.debug({ err: err.message, host: `${host.host}:${host.port}` }, 'index connection lost'));
    try {
      await client.connect();
      const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      const inRecovery = rows[0].r;
      if (want === 'read-write' && inRecovery) {
        reasons.push(`${host.host}:${host.port} is a standby`);
        await client.end().catch(() => undefined);
        continue;
      }
      return { client, host, inRecovery };
    } catch (err) {
      reasons.push(`${host.host}:${host.port}: ${(err as Error).message}`);
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`no ${want === 'read-write' ? 'read-write ' : ''}PostgreSQL host reachable (${reasons.join('; ')})`);
}

export interface IndexRow {
  id: string;
  model: string;
  modelVersion: string;
  capturedAt: Date;
  shard: string;
  objectKey: string;
  requestId?: string;
  partitionKey?: string;
  status: number;
  latencyUs: number;
  requestBytes: number;
  responseBytes: number;
}

const INSERT_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::smallint[], $10::bigint[], $11::integer[], $12::integer[])
    AS t(id, model, model_version, captured_at, shard, object_key, request_id, partition_key, status, latency_us, request_bytes, response_bytes)
), ins AS (
  INSERT INTO capture_records (id, model, model_version, captured_at, shard, object_key, request_id, partition_key, status, latency_us, request_bytes, response_bytes)
  SELECT id, model, model_version, captured_at, shard, object_key, request_id, partition_key, status, latency_us, request_bytes, response_bytes FROM input
  ON CONFLICT (id) DO NOTHING
  RETURNING model, model_version, captured_at, status, latency_us, request_bytes, response_bytes
), usage AS (
  INSERT INTO model_usage AS u (model, model_version, day, records, errors, latency_us_sum, request_bytes, response_bytes)
  SELECT model, model_version, (captured_at AT TIME ZONE 'UTC')::date, count(*), count(*) FILTER (WHERE status >= 400), sum(latency_us), sum(request_bytes), sum(response_bytes)
  FROM ins GROUP BY 1, 2, 3
  ON CONFLICT (model, model_version, day) DO UPDATE SET
    records = u.records + EXCLUDED.records, errors = u.errors + EXCLUDED.errors,
    latency_us_sum = u.latency_us_sum + EXCLUDED.latency_us_sum,
    request_bytes = u.request_bytes + EXCLUDED.request_bytes, response_bytes = u.response_bytes + EXCLUDED.response_bytes,
    updated_at = now()
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::int AS inserted`;

export interface IndexWriterOptions extends ConnectOptions {
  logger?: Logger;
}

/** Batched, idempotent writes to the primary; reconnects (re-resolving the writer endpoint) after any error. */
export class IndexWriter {
  private readonly target: PgTarget;
  private conn?: Connected;
  private connecting?: Promise<Connected>;

  constructor(
    readonly url: string,
    private readonly options: IndexWriterOptions = {},
  ) {
    this.target = parsePostgresUrl(url);
  }

  /** host:port of the primary currently connected, if any. */
  get connectedTo(): string | undefined {
    return this.conn ? `${this.conn.host.host}:${this.conn.host.port}` : undefined;
  }

  private async client(): Promise<Client> {
    if (this.conn) return this.conn.client;
    this.connecting ??= (async () => {
      const c = await connect(this.target, 'read-write', this.options);
      try {
        const result = await migrate(c.client);
        if (result.applied.length) this.options.logger?.info({ applied: result.applied, host: `${c.host.host}:${c.host.port}` }, 'capture index: migrations applied');
      } catch (err) {
        await c.client.end().catch(() => undefined);
        throw err;
      }
      this.options.logger?.info({ primary: `${c.host.host}:${c.host.port}` }, 'capture index: connected to the primary');
      return c;
    })().finally(() => (this.connecting = undefined));
    this.conn = await this.connecting;
    return this.conn.client;
  }

  /** Drops the connection: the next call connects again, to whichever host is the primary by then. */
  reset(): void {
    const c = this.conn;
    this.conn = undefined;
    if (c) void c.client.end().catch(() => undefined);
  }

  /** Connects (and migrates) now; throws if the primary is unreachable. */
  async ready(): Promise<void> {
    await this.client();
  }

  /** Inserts the rows not already present; returns how many were new. */
  async insert(rows: readonly IndexRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const client = await this.client();
    try {
      const cols: unknown[][] = Array.from({ length: 12 }, () => []);
      for (const r of rows) {
        const values = [r.id, r.model, r.modelVersion, r.capturedAt.toISOString(), r.shard, r.objectKey, r.requestId ?? null, r.partitionKey ?? null, r.status, Math.round(r.latencyUs), r.requestBytes, r.responseBytes];
        values.forEach((v, i) => cols[i].push(v));
      }
      const { rows: out } = await client.query<{ inserted: number }>(INSERT_SQL, cols);
      return out[0].inserted;
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  async close(): Promise<void> {
    const pending = this.connecting;
    if (pending) await pending.catch(() => undefined);
    const c = this.conn;
    this.conn = undefined;
    if (c) await c.client.end().catch(() => undefined);
  }
}

export interface CaptureQuery {
  model: string;
  since: Date;
  until?: Date;
  limit?: number;
}

export interface CaptureListing {
  rows: IndexRow[];
  /** Which endpoint answered: "replica host:port" or "primary host:port". */
  source: string;
}

export interface UsageRow {
  model: string;
  modelVersion: string;
  day: string;
  records: number;
  errors: number;
  latencyUsSum: number;
}

/** Reads from the replicas in order, then from the writer endpoint when no replica answers. */
export class IndexReader {
  private readonly endpoints: Array<{ role: 'replica' | 'primary'; target: PgTarget }>;

  constructor(readerUrls: readonly string[], writerUrl: string | undefined, private readonly options: ConnectOptions = {}) {
    this.endpoints = [
      ...readerUrls.map((u) => ({ role: 'replica' as const, target: parsePostgresUrl(u) })),
      ...(writerUrl ? [{ role: 'primary' as const, target: parsePostgresUrl(writerUrl) }] : []),
    ];
    if (this.endpoints.length === 0) throw new Error('no database endpoint: give --database-reader-urls or --database-writer-url');
  }

  private async withReader<T>(fn: (client: Client) => Promise<T>): Promise<{ value: T; source: string }> {
    const errors: string[] = [];
    for (const ep of this.endpoints) {
      let conn: Connected;
      try {
        conn = await connect(ep.target, 'any', this.options);
      } catch (err) {
        errors.push(`${ep.role}: ${(err as Error).message}`);
        continue;
      }
      try {
        const value = await fn(conn.client);
        return { value, source: `${ep.role} ${conn.host.host}:${conn.host.port}` };
      } catch (err) {
        errors.push(`${ep.role} ${conn.host.host}:${conn.host.port}: ${(err as Error).message}`);
      } finally {
        await conn.client.end().catch(() => undefined);
      }
    }
    throw new Error(`no database endpoint answered: ${errors.join('; ')}`);
  }

  async list(q: CaptureQuery): Promise<CaptureListing> {
    const { value, source } = await this.withReader(async (client) => {
      const { rows } = await client.query(
        `SELECT id, model, model_version, captured_at, shard, object_key, request_id, partition_key, status, latency_us, request_bytes, response_bytes
           FROM capture_records WHERE model = $1 AND captured_at >= $2 AND ($3::timestamptz IS NULL OR captured_at < $3)
           ORDER BY captured_at, id LIMIT $4`,
        [q.model, q.since.toISOString(), q.until?.toISOString() ?? null, q.limit ?? 100],
      );
      return rows.map(
        (r): IndexRow => ({
          id: r.id,
          model: r.model,
          modelVersion: r.model_version,
          capturedAt: new Date(r.captured_at),
          shard: r.shard,
          objectKey: r.object_key,
          requestId: r.request_id ?? undefined,
          partitionKey: r.partition_key ?? undefined,
          status: Number(r.status),
          latencyUs: Number(r.latency_us),
          requestBytes: Number(r.request_bytes),
          responseBytes: Number(r.response_bytes),
        }),
      );
    });
    return { rows: value, source };
  }

  async usage(model?: string): Promise<{ rows: UsageRow[]; source: string }> {
    const { value, source } = await this.withReader(async (client) => {
      const { rows } = await client.query(
        `SELECT model, model_version, to_char(day, 'YYYY-MM-DD') AS day, records, errors, latency_us_sum FROM model_usage
          WHERE $1::text IS NULL OR model = $1 ORDER BY model, model_version, day`,
        [model ?? null],
      );
      return rows.map((r): UsageRow => ({ model: r.model, modelVersion: r.model_version, day: r.day, records: Number(r.records), errors: Number(r.errors), latencyUsSum: Number(r.latency_us_sum) }));
    });
    return { rows: value, source };
  }
}
