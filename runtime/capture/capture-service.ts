/**
 * Data capture, the façade the runtime uses: `record()` on the request path (sampling, then one
 * synchronous append to the journal; never throws, never awaits), and a flusher off the request
 * path that group-commits the journal every flush interval and writes each sealed segment's
 * records to their shard (consistent hashing of the record key) and then to the index on the
 * primary, retrying unreachable sinks with exponential backoff. A segment is deleted only when
 * every record in it is stored and indexed, so nothing accepted is lost: a crash, a kill -9 or
 * a stop with sinks down leaves the records in the journal, and the next start replays them.
 * Object keys and index rows derive from the record id, so a replay never duplicates anything.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { RuntimeMetrics } from '../metrics';
import { isSampled } from './hash';
import { HashRing } from './hash-ring';
import { IndexReader, IndexRow, IndexWriter, redactUrl } from './index-store';
import { Journal, Segment, encodeFrame } from './journal';
import { newRecordId, objectKey } from './object-keys';
import { ShardSpec, parseShardSpec } from './shard-spec';
import { Shard, openShard } from './shards';

/** A model's `data_capture` settings (config.json). */
export interface DataCaptureSettings {
  enabled: boolean;
  /** 0–100: share of requests captured, decided by a hash of the record key. */
  samplingPercentage: number;
  captureRequest: boolean;
  captureResponse: boolean;
}

export interface CapturedBody {
  body: Buffer;
  contentType?: string;
  /** The Inference-Header-Content-Length of a binary request or response. */
  headerLength?: string;
}

/** What the infer route hands over once a response (success or error) is encoded. */
export interface CaptureInput {
  model: string;
  version: string;
  settings: DataCaptureSettings | undefined;
  /** The protocol request id, else the HTTP request id. */
  requestId: string;
  /** The `partition_key` request parameter: records sharing it go to the same shard (and are sampled together). */
  partitionKey?: string;
  status: number;
  latencyUs: number;
  request?: CapturedBody;
  response?: CapturedBody;
  error?: string;
}

/** The journal frame header of a record (blobs: request body, then response body, each when kept). */
export interface RecordHeader {
  v: 1;
  id: string;
  model: string;
  version: string;
  /** Capture time, Unix ms. */
  t: number;
  rid: string;
  pk?: string;
  st: number;
  lat: number;
  err?: string;
  req?: { ct?: string; hl?: string; n: number };
  res?: { ct?: string; hl?: string; n: number };
}

const blobLengths = (h: RecordHeader): number[] => [...(h.req ? [h.req.n] : []), ...(h.res ? [h.res.n] : [])];

export interface CaptureServiceOptions {
  journalDir: string;
  journalMaxBytes: number;
  /** Group commit + flush interval. */
  flushIntervalMs: number;
  /** Shards in ring order; default: one local directory under the journal dir. */
  shards?: readonly ShardSpec[];
  databaseWriterUrl?: string;
  databaseReaderUrls?: readonly string[];
  logger: Logger;
  metrics?: RuntimeMetrics;
  /** Parallel puts per shard. */
  putConcurrency?: number;
  /** Rows per index insert. */
  batchRows?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A segment is sealed early once it holds this many bytes. */
  segmentBytes?: number;
}

/** Exponential backoff with jitter for one sink (a shard or the database). */
class Breaker {
  private until = 0;
  private delay = 0;
  failures = 0;
  constructor(private readonly baseMs: number, private readonly maxMs: number) {}
  get up(): boolean {
    return this.failures === 0;
  }
  available(now = Date.now()): boolean {
    return now >= this.until;
  }
  ok(): boolean {
    const wasDown = this.failures > 0;
    this.failures = 0;
    this.delay = 0;
    this.until = 0;
    return wasDown;
  }
  fail(now = Date.now()): void {
    this.failures += 1;
    this.delay = Math.min(this.maxMs, this.delay === 0 ? this.baseMs : this.delay * 2);
    this.until = now + this.delay * (0.75 + Math.random() * 0.5);
  }
}

interface RecordState {
  stored: boolean;
  indexed: boolean;
  /** Counted once in the journaled metric when a sink first failed for it. */
  spooled: boolean;
}

interface SegmentState {
  records: Map<string, RecordState>;
  /** Sinks some record of the segment still waits for (known after the first pass). */
  waitingShards?: Set<string>;
  waitingIndex?: boolean;
  tornLogged?: boolean;
}

interface Prepared {
  h: RecordHeader;
  req?: Buffer;
  res?: Buffer;
  shard: Shard;
  key: string;
  state: RecordState;
}

export interface CaptureStats {
  captured: number;
  dropped: number;
  stored: number;
  indexed: number;
  journalBytes: number;
  pendingSegments: number;
  shardsDown: string[];
  databaseDown: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * The stored object: the record's metadata and payloads (JSON bodies embedded as JSON, anything
 * else base64). Bodies of answered requests were validated by the protocol codec, so their JSON
 * is embedded byte for byte without being parsed again; error bodies are checked first.
 */
export function renderRecord(h: RecordHeader, req: Buffer | undefined, res: Buffer | undefined, shard: string): Buffer {
  const meta = {
    id: h.id,
    model: h.model,
    model_version: h.version,
    captured_at: new Date(h.t).toISOString(),
    request_id: h.rid,
    ...(h.pk !== undefined ? { partition_key: h.pk } : {}),
    shard,
    status: h.st,
    latency_us: h.lat,
    ...(h.err !== undefined ? { error: h.err } : {}),
  };
  const parts: Buffer[] = [Buffer.from(JSON.stringify(meta).slice(0, -1), 'utf8')];
  const payload = (name: string, info: { ct?: string; hl?: string } | undefined, body: Buffer | undefined) => {
    if (!info || !body) return;
    const head = { content_type: info.ct ?? null, ...(info.hl !== undefined ? { inference_header_content_length: Number(info.hl) } : {}) };
    const prefix = `,${JSON.stringify(name)}:${JSON.stringify(head).slice(0, -1)}`;
    let json = info.hl === undefined && body.length > 0 && (h.st === 200 || isJson(body));
    if (json && h.st === 200 && !looksLikeJsonObject(body)) json = isJson(body);
    if (json) parts.push(Buffer.from(`${prefix},"encoding":"JSON","data":`), body, Buffer.from('}'));
    else parts.push(Buffer.from(`${prefix},"encoding":"BASE64","data":"${body.toString('base64')}"}`));
  };
  payload('request', h.req, req);
  payload('response', h.res, res);
  parts.push(Buffer.from('}'));
  return Buffer.concat(parts);
}

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** Cheap shape check for bodies the codec already accepted: an object, first and last non-blank bytes. */
function looksLikeJsonObject(body: Buffer): boolean {
  let i = 0;
  let j = body.length - 1;
  while (i <= j && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  while (j >= i && (body[j] === 0x20 || body[j] === 0x0a || body[j] === 0x0d || body[j] === 0x09)) j--;
  return body[i] === 0x7b && body[j] === 0x7d;
}

export class CaptureService {
  readonly ring: HashRing;
  readonly shards: ReadonlyMap<string, Shard>;
  readonly writer?: IndexWriter;
  readonly reader?: IndexReader;
  private readonly shardBreakers = new Map<string, Breaker>();
  private readonly dbBreaker: Breaker;
  private readonly segments = new Map<number, SegmentState>();
  private timer?: NodeJS.Timeout;
  private pumping?: Promise<void>;
  private sealing?: Promise<void>;
  private closing = false;
  private readonly counts = { captured: 0, dropped: 0, stored: 0, indexed: 0 };
  private lastDropLog = 0;
  private dropsSinceLog = 0;

  private constructor(
    private readonly journal: Journal,
    private readonly options: CaptureServiceOptions,
    shardSpecs: readonly ShardSpec[],
  ) {
    const shards = new Map<string, Shard>();
    for (const spec of shardSpecs) shards.set(spec.id, openShard(spec));
    this.shards = shards;
    this.ring = new HashRing([...shards.keys()]);
    for (const id of shards.keys()) this.shardBreakers.set(id, new Breaker(options.backoffBaseMs ?? 200, options.backoffMaxMs ?? 5000));
    this.dbBreaker = new Breaker(options.backoffBaseMs ?? 200, options.backoffMaxMs ?? 5000);
    if (options.databaseWriterUrl) this.writer = new IndexWriter(options.databaseWriterUrl, { logger: options.logger, queryTimeoutMs: 10_000, connectTimeoutMs: 2000 });
    if (options.databaseWriterUrl || options.databaseReaderUrls?.length) {
      this.reader = new IndexReader(options.databaseReaderUrls ?? [], options.databaseWriterUrl, { connectTimeoutMs: 2000, queryTimeoutMs: 10_000 });
    }
  }

  /** Opens the journal (replaying what a previous process left), connects the sinks lazily, starts the flusher. */
  static async start(options: CaptureServiceOptions): Promise<CaptureService> {
    const shardSpecs = options.shards?.length ? options.shards : [parseShardSpec(`file://${path.join(path.resolve(options.journalDir), 'shards', 'local')}`)];
    const journal = await Journal.open({ dir: options.journalDir, maxBytes: options.journalMaxBytes });
    const service = new CaptureService(journal, options, shardSpecs);
    const left = journal.sealed();
    options.logger.info(
      {
        journal: options.journalDir,
        shards: [...service.shards.keys()],
        writer: options.databaseWriterUrl ? redactUrl(options.databaseWriterUrl) : undefined,
        readers: options.databaseReaderUrls?.map(redactUrl),
        replaySegments: left.length,
        replayBytes: left.reduce((n, s) => n + s.bytes, 0),
      },
      left.length ? 'capture: replaying the journal left by a previous run' : 'capture: started',
    );
    service.updateGauges();
    service.timer = setInterval(() => void service.tick(), options.flushIntervalMs);
    service.timer.unref();
    // Connect and migrate now (in the background): a database that is down must not delay serving.
    if (service.writer) {
      void service.writer.ready().then(
        () => service.dbBreaker.ok(),
        (err) => {
          service.dbBreaker.fail();
          options.logger.warn({ err: (err as Error).message }, 'capture index: primary unreachable at start; records wait in the journal');
        },
      );
    }
    if (left.length) void service.tick();
    return service;
  }

  /**
   * Request path: decide sampling, append the record to the journal. Never throws, never waits:
   * when the journal is full or failing the record is dropped and counted, inference goes on.
   */
  record(input: CaptureInput): void {
    try {
      const s = input.settings;
      if (!s || !s.enabled || this.closing) return;
      const key = input.partitionKey ?? input.requestId;
      if (!isSampled(key, s.samplingPercentage)) return;
      const now = Date.now();
      const h: RecordHeader = { v: 1, id: newRecordId(now), model: input.model, version: input.version, t: now, rid: input.requestId, st: input.status, lat: Math.round(input.latencyUs) };
      if (input.partitionKey !== undefined) h.pk = input.partitionKey;
      if (input.error !== undefined) h.err = input.error.length > 2000 ? `${input.error.slice(0, 2000)}…` : input.error;
      const blobs: Buffer[] = [];
      if (s.captureRequest && input.request) {
        h.req = { ct: input.request.contentType, hl: input.request.headerLength, n: input.request.body.length };
        blobs.push(input.request.body);
      }
      if (s.captureResponse && input.response) {
        h.res = { ct: input.response.contentType, hl: input.response.headerLength, n: input.response.body.length };
        blobs.push(input.response.body);
      }
      const outcome = this.journal.append(encodeFrame(h, blobs));
      if (outcome === 'ok') {
        this.counts.captured += 1;
        this.options.metrics?.captureRecords.inc({ model: input.model, version: input.version });
        if (this.journal.activeSize >= (this.options.segmentBytes ?? 8 << 20)) setImmediate(() => void this.tick());
      } else {
        this.drop(input.model, input.version, outcome === 'full' ? 'journal_full' : outcome === 'closed' ? 'closed' : 'journal_error');
      }
    } catch (err) {
      try {
        this.drop(input.model, input.version, 'error', err);
      } catch {
        /* never let capture fail a request */
      }
    }
  }

  private drop(model: string, version: string, reason: string, err?: unknown): void {
    this.counts.dropped += 1;
    this.options.metrics?.captureDropped.inc({ model, version, reason });
    this.dropsSinceLog += 1;
    const now = Date.now();
    if (now - this.lastDropLog >= 10_000) {
      this.options.logger.error(
        { reason, dropped: this.dropsSinceLog, journalBytes: this.journal.bytes, journalMaxBytes: this.journal.maxBytes, err: err instanceof Error ? err.message : undefined },
        'capture degraded: records dropped (inference unaffected)',
      );
      this.lastDropLog = now;
      this.dropsSinceLog = 0;
    }
  }

  private updateGauges(): void {
    const m = this.options.metrics;
    if (!m) return;
    m.captureJournalBytes.set(this.journal.bytes);
    for (const [id, b] of this.shardBreakers) m.captureSinkUp.set({ sink: id }, b.up ? 1 : 0);
    if (this.writer) m.captureSinkUp.set({ sink: 'database' }, this.dbBreaker.up ? 1 : 0);
  }

  /** Group commit when due, then flush sealed segments (single-flight). */
  private async tick(): Promise<void> {
    if (!this.sealing && this.journal.pendingFrames > 0) {
      this.sealing = this.journal
        .seal()
        .then(() => undefined)
        .catch((err) => this.options.logger.error({ err }, 'capture journal: group commit failed'))
        .finally(() => (this.sealing = undefined));
      await this.sealing;
    }
    if (!this.pumping && this.journal.sealed().length > 0) {
      this.pumping = this.pump()
        .catch((err) => this.options.logger.error({ err }, 'capture flusher failed'))
        .finally(() => (this.pumping = undefined));
    }
    this.updateGauges();
  }

  /** Passes over the sealed segments, oldest first, while some pass makes progress. */
  private async pump(): Promise<void> {
    for (;;) {
      let progressed = false;
      for (const seg of [...this.journal.sealed()]) {
        if (await this.processSegment(seg)) progressed = true;
      }
      this.updateGauges();
      if (!progressed || this.journal.sealed().length === 0) return;
    }
  }

  private canProgress(st: SegmentState, now: number): boolean {
    if (st.waitingShards === undefined) return true;
    for (const id of st.waitingShards) if (this.shardBreakers.get(id)!.available(now)) return true;
    return st.waitingIndex === true && this.dbBreaker.available(now);
  }

  /** One attempt at a segment. Returns true when some record advanced (or the segment is done). */
  private async processSegment(seg: Segment): Promise<boolean> {
    let st = this.segments.get(seg.seq);
    if (!st) this.segments.set(seg.seq, (st = { records: new Map() }));
    if (!this.canProgress(st, Date.now())) return false;
    const { frames, tornAt } = await this.journal.read<RecordHeader>(seg, blobLengths);
    if (tornAt !== undefined && !st.tornLogged) {
      st.tornLogged = true;
      this.options.logger.warn({ segment: path.basename(seg.file), offset: tornAt, frames: frames.length }, 'capture journal: torn tail (left by a crash); replaying the frames before it');
    }
    const prepared: Prepared[] = [];
    for (const f of frames) {
      const h = f.header;
      let rs = st.records.get(h.id);
      if (!rs) st.records.set(h.id, (rs = { stored: false, indexed: false, spooled: false }));
      const shardId = this.ring.shardFor(h.pk ?? h.rid);
      let i = 0;
      const req = h.req ? f.blobs[i++] : undefined;
      const res = h.res ? f.blobs[i++] : undefined;
      prepared.push({ h, req, res, shard: this.shards.get(shardId)!, key: objectKey(h.model, new Date(h.t), h.id), state: rs });
    }
    let progressed = false;

    // 1. Objects into their shards.
    const byShard = new Map<Shard, Prepared[]>();
    for (const p of prepared) if (!p.state.stored) (byShard.get(p.shard) ?? byShard.set(p.shard, []).get(p.shard)!).push(p);
    await Promise.all(
      [...byShard].map(async ([shard, list]) => {
        const breaker = this.shardBreakers.get(shard.id)!;
        if (!breaker.available()) return this.spool(list);
        let failed: unknown;
        let next = 0;
        const worker = async () => {
          while (failed === undefined && next < list.length) {
            const p = list[next++];
            try {
              await shard.put(p.key, renderRecord(p.h, p.req, p.res, shard.id));
              p.state.stored = true;
            } catch (err) {
              failed ??= err;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(this.options.putConcurrency ?? 8, list.length) }, worker));
        const done = list.filter((p) => p.state.stored);
        if (done.length) {
          try {
            await shard.sync();
          } catch (err) {
            for (const p of done) p.state.stored = false;
            failed ??= err;
          }
        }
        const stored = list.filter((p) => p.state.stored).length;
        if (stored) {
          progressed = true;
          this.counts.stored += stored;
          this.options.metrics?.captureStored.inc({ shard: shard.id }, stored);
        }
        if (failed !== undefined) {
          breaker.fail();
          this.spool(list.filter((p) => !p.state.stored));
          if (breaker.failures === 1) this.options.logger.warn({ shard: shard.id, err: (failed as Error).message }, 'capture shard unreachable: records wait in the journal');
        } else if (breaker.ok()) {
          this.options.logger.info({ shard: shard.id }, 'capture shard reachable again: flushing the journal');
        }
      }),
    );

    // 2. Index rows on the primary, for records whose object exists.
    if (this.writer) {
      const todo = prepared.filter((p) => p.state.stored && !p.state.indexed);
      if (todo.length && !this.dbBreaker.available()) this.spool(todo);
      else if (todo.length) {
        const batch = this.options.batchRows ?? 500;
        for (let i = 0; i < todo.length; i += batch) {
          const chunk = todo.slice(i, i + batch);
          try {
            await this.writer.insert(chunk.map((p) => toRow(p)));
            for (const p of chunk) p.state.indexed = true;
            progressed = true;
            this.counts.indexed += chunk.length;
            this.options.metrics?.captureIndexed.inc(chunk.length);
            if (this.dbBreaker.ok()) this.options.logger.info({ primary: this.writer.connectedTo }, 'capture index reachable again: flushing the journal');
          } catch (err) {
            this.dbBreaker.fail();
            this.spool(todo.slice(i));
            if (this.dbBreaker.failures === 1) this.options.logger.warn({ err: (err as Error).message }, 'capture index: primary unreachable; rows wait in the journal');
            break;
          }
        }
      }
    }

    const waitingShards = new Set<string>();
    let waitingIndex = false;
    for (const p of prepared) {
      if (!p.state.stored) waitingShards.add(p.shard.id);
      else if (this.writer && !p.state.indexed) waitingIndex = true;
    }
    if (waitingShards.size === 0 && !waitingIndex) {
      await this.journal.remove(seg);
      this.segments.delete(seg.seq);
      return true;
    }
    st.waitingShards = waitingShards;
    st.waitingIndex = waitingIndex;
    return progressed;
  }

  private spool(list: Prepared[]): void {
    let n = 0;
    for (const p of list) {
      if (!p.state.spooled) {
        p.state.spooled = true;
        n++;
      }
    }
    if (n) this.options.metrics?.captureJournaled.inc(n);
  }

  /** Group-commits and flushes until the journal is empty, nothing can progress, or the deadline passes. */
  async flush(deadlineMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline) {
      await this.tick();
      if (this.pumping) await Promise.race([this.pumping, sleep(Math.max(0, deadline - Date.now()))]);
      if (this.journal.sealed().length === 0 && this.journal.pendingFrames === 0) return true;
      await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
    }
    return this.journal.sealed().length === 0 && this.journal.pendingFrames === 0;
  }

  /**
   * Stop: flush within the deadline, then leave whatever is still pending in the (fsync'd)
   * journal for the next start. Returns what stayed journaled.
   */
  async close(deadlineMs = 5000): Promise<{ flushed: boolean; journalBytes: number }> {
    if (this.timer) clearInterval(this.timer);
    const flushed = await this.flush(deadlineMs);
    this.closing = true;
    if (this.pumping) await Promise.race([this.pumping, sleep(1000)]);
    await this.journal.close();
    const journalBytes = this.journal.bytes;
    for (const shard of this.shards.values()) shard.close();
    await this.writer?.close();
    this.options.logger.info({ flushed, journalBytes, ...this.counts }, flushed ? 'capture: flushed' : 'capture: records left in the journal for the next start');
    return { flushed, journalBytes };
  }

  stats(): CaptureStats {
    return {
      ...this.counts,
      journalBytes: this.journal.bytes,
      pendingSegments: this.journal.sealed().length,
      shardsDown: [...this.shardBreakers].filter(([, b]) => !b.up).map(([id]) => id),
      databaseDown: !!this.writer && !this.dbBreaker.up,
    };
  }
}

function toRow(p: Prepared): IndexRow {
  return {
    id: p.h.id,
    model: p.h.model,
    modelVersion: p.h.version,
    capturedAt: new Date(p.h.t),
    shard: p.shard.id,
    objectKey: p.key,
    requestId: p.h.rid,
    partitionKey: p.h.pk,
    status: p.h.st,
    latencyUs: p.h.lat,
    requestBytes: p.h.req?.n ?? 0,
    responseBytes: p.h.res?.n ?? 0,
  };
}
