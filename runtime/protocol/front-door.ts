/**
 * The server's front door: what must stay fast whatever the load is answered from node:http's
 * request event, before Fastify routes it, runs its hooks or reads a byte of the body:
 *
 * - `GET /v2/health/live` and `/v2/health/ready` (the load balancer's probes: a slow answer under
 *   saturation takes a busy but healthy instance out of service);
 * - an inference request its model's queue refuses now (full, or an estimated wait beyond the
 *   model's timeout): 503 + Retry-After from the request line and headers alone. A shed costs a
 *   few µs of the event loop instead of a pass through Fastify, so under overload the loop's time
 *   goes to the requests it accepted. Its body is never buffered: up to DRAIN_LIMIT_BYTES still to
 *   come are discarded as they arrive, keeping the connection; beyond (or chunked) the connection
 *   closes after the answer (a bounded lingering close, see body-reader.ts). Closing after every
 *   shed was measured worse: at 3× overload the load generator's clients then spent their time
 *   reconnecting (187 answered 503/s against 460 with keep-alive, README's Performance section).
 *
 * Everything else (and everything when the access log is on, `--log-level debug`, or when bearer
 * tokens guard the protocol, or when a model has a canary whose routing is random) goes to Fastify,
 * which answers the same requests the same way: the same status, headers, metrics and counts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { HEALTH_LIVE_PATH, HEALTH_READY_PATH } from '../contract';
import type { Lifecycle } from '../lifecycle';
import type { CountTally, RuntimeMetrics } from '../metrics';
import type { ModelManager, ModelVersion } from '../models/model-manager';
import { DRAIN_LIMIT_BYTES, lingerBeforeClose } from './body-reader';
import { readiness } from './routes';
import { RETRY_AFTER_SECONDS } from '../scheduling/model-queue';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const INFER_PATH = /^\/v2\/models\/([^/]+)\/(?:versions\/([^/]+)\/)?infer$/;
const LIVE_BODY = JSON.stringify({ live: true });
const RETRY_AFTER = { 'retry-after': String(RETRY_AFTER_SECONDS) };

export interface FrontDoorDeps {
  models: ModelManager;
  lifecycle: Lifecycle;
  metrics: RuntimeMetrics;
  logger: Logger;
  /** Bearer tokens guard the protocol routes: inference requests go through Fastify's auth first. */
  authenticated: boolean;
}

export class FrontDoor {
  constructor(private readonly deps: FrontDoorDeps) {}

  /** Answers the request and returns true, or returns false for Fastify to handle it. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.deps.logger.isLevelEnabled('debug')) return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (req.method === 'GET') {
      if (path === HEALTH_LIVE_PATH) return this.send(req, res, 200, LIVE_BODY, HEALTH_LIVE_PATH);
      if (path === HEALTH_READY_PATH) {
        const answer = readiness(this.deps.models, this.deps.lifecycle, this.deps.metrics);
        return this.send(req, res, answer.status, JSON.stringify(answer.body), HEALTH_READY_PATH);
      }
      return false;
    }
    if (req.method === 'POST' && !this.deps.authenticated && path.endsWith('/infer')) return this.shed(req, res, path);
    return false;
  }

  private shed(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const m = INFER_PATH.exec(path);
    if (!m) return false;
    let v: ModelVersion;
    try {
      const name = decodeURIComponent(m[1]);
      if (this.deps.models.model(name).canary) return false;
      v = this.deps.models.version(name, m[2] === undefined ? undefined : decodeURIComponent(m[2]));
    } catch {
      return false; // unknown, not ready or malformed: Fastify answers with the right error
    }
    const reason = v.queue?.refusalReason();
    if (reason === undefined) return false;
    this.rejected(v).n++;
    const route = m[2] === undefined ? '/v2/models/:model/infer' : '/v2/models/:model/versions/:version/infer';
    return this.send(req, res, 503, JSON.stringify({ error: reason }), route, RETRY_AFTER);
  }

  /** Each version's REJECTED failure tally, found once per version rather than once per shed. */
  private readonly rejections = new WeakMap<ModelVersion, CountTally>();
  private rejected(v: ModelVersion): CountTally {
    let t = this.rejections.get(v);
    if (!t) this.rejections.set(v, (t = this.deps.metrics.countTally(this.deps.metrics.requestFailure, { model: v.model, version: String(v.version), reason: 'REJECTED' })));
    return t;
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, body: string, route: string, extra: Record<string, string> = {}): true {
    const given = req.headers['x-request-id'];
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-request-id': typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
      ...extra,
    };
    const left = unreadBody(req);
    if (this.deps.lifecycle.stopping || left > DRAIN_LIMIT_BYTES) {
      headers.connection = 'close';
      if (left > 0) lingerBeforeClose(req.socket);
    }
    res.writeHead(status, headers);
    res.end(body);
    this.deps.metrics.countTally(this.deps.metrics.httpRequests, { route, code: String(status) }).n++;
    return true;
  }
}

/** Body bytes the request still has to send: its Content-Length, or unbounded when chunked. */
function unreadBody(req: IncomingMessage): number {
  if (req.headers['transfer-encoding'] !== undefined) return Number.POSITIVE_INFINITY;
  const n = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
