/**
 * How the runtime wires data capture: the service from the serve options, and a read-only HTTP
 * endpoint over the index (replica first, primary as fallback), behind the same authentication
 * as the protocol routes.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RuntimeConfig } from '../config';
import type { RuntimeMetrics } from '../metrics';
import { CaptureService } from './capture-service';
import { splitUrlList } from './pg-url';
import { parseShardList } from './shard-spec';
import { parseTime } from './time-window';

/** The capture service when --capture-journal-dir is set, else undefined. */
export async function startCapture(config: RuntimeConfig, logger: Logger, metrics: RuntimeMetrics): Promise<CaptureService | undefined> {
  if (!config.captureJournalDir) return undefined;
  return CaptureService.start({
    journalDir: config.captureJournalDir,
    journalMaxBytes: config.captureJournalMaxBytes,
    flushIntervalMs: config.captureFlushIntervalMs,
    shards: config.captureShards ? parseShardList(config.captureShards) : undefined,
    databaseWriterUrl: config.databaseWriterUrl,
    databaseReaderUrls: config.databaseReaderUrls ? splitUrlList(config.databaseReaderUrls) : undefined,
    logger: logger.child({ component: 'capture' }),
    metrics,
  });
}

interface ListQuery {
  model?: string;
  since?: string;
  until?: string;
  limit?: string;
}

export async function captureRoutes(app: FastifyInstance, opts: { capture: CaptureService }): Promise<void> {
  const fail = (status: number, error: string) => Object.assign(new Error(error), { statusCode: status });
  const reader = () => {
    if (!opts.capture.reader) throw fail(404, 'no capture index: the server runs without --database-writer-url / --database-reader-urls');
    return opts.capture.reader;
  };
  app.get<{ Querystring: ListQuery }>('/v2/captures', async (req) => {
    const q = req.query;
    if (!q.model) throw fail(400, "query parameter 'model' is required");
    let since: Date;
    let until: Date | undefined;
    try {
      since = parseTime(q.since ?? '1h');
      until = q.until ? parseTime(q.until) : undefined;
    } catch (err) {
      throw fail(400, (err as Error).message);
    }
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw fail(400, `limit: got ${JSON.stringify(q.limit)}, expected an integer from 1 to 10000`);
    try {
      const { rows, source } = await reader().list({ model: q.model, since, until, limit });
      return { source, records: rows };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode) throw err;
      throw fail(503, (err as Error).message);
    }
  });
  app.get<{ Querystring: { model?: string } }>('/v2/captures/usage', async (req) => {
    try {
      const { rows, source } = await reader().usage(req.query.model);
      return { source, usage: rows };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode) throw err;
      throw fail(503, (err as Error).message);
    }
  });
}
