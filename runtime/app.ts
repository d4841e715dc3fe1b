/**
 * Builds the Fastify application from its dependencies. Never listens: the server module does,
 * and tests use `inject` or listen on port 0.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import Fastify, { FastifyBaseLogger, FastifyError, FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { authPlugin } from './auth';
import { KEEP_ALIVE_TIMEOUT_SECONDS, METRICS_PATH } from './contract';
import { InferenceError } from './errors';
import type { Lifecycle } from './lifecycle';
import type { RuntimeMetrics } from './metrics';
import type { ModelManager } from './models/model-manager';
import { protocolRoutes } from './protocol/routes';
import { FrontDoor } from './protocol/front-door';
import type { SaturationSignal } from './scheduling/saturation';
import { BytesBudget } from './admission/bytes-budget';
import { defaultRequestBytesInFlight } from './config';
import { repositoryRoutes } from './models/repository-routes';
import type { ModelControlMode } from './config';

export interface AppDeps {
  models: ModelManager;
  metrics: RuntimeMetrics;
  /** The saturation gauges are set from it before each scrape. */
  saturation: SaturationSignal;
  lifecycle: Lifecycle;
  logger: Logger;
  maxBodyBytes: number;
  /** Budget for request bytes in flight (default: derived from the memory limit, see config.ts). */
  maxRequestBytesInFlight?: number;
  serverVersion: string;
  /** Bearer tokens required on protocol routes (health and metrics stay open). Empty or absent: no authentication. */
  authTokens?: readonly string[];
  /** Tokens for the repository API instead of authTokens. */
  adminTokens?: readonly string[];
  /** Triton's model control mode (explicit: the repository API may load and unload). */
  modelControlMode?: ModelControlMode;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Turns a Fastify or parser error into the protocol's error body with a useful message. */
function clientErrorMessage(err: FastifyError, maxBodyBytes: number): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `request body is larger than the server's limit of ${maxBodyBytes} bytes; send a smaller batch or raise --max-body-bytes`;
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'request body length does not match its Content-Length header';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'request body is empty; send a JSON inference request';
    default:
      return err.message;
  }
}

export function buildApp(deps: AppDeps): FastifyInstance {
  // Health probes and sheds are answered before Fastify (protocol/front-door.ts).
  const front = new FrontDoor({ models: deps.models, lifecycle: deps.lifecycle, metrics: deps.metrics, logger: deps.logger, authenticated: (deps.authTokens ?? []).length > 0 });
  const app = Fastify({
    // Fastify's own HTTP/1 server (same timeouts as it sets), with the front door before its handler.
    serverFactory: (handler, options) => {
      const server = http.createServer((req, res) => {
        if (!front.handle(req, res)) handler(req, res);
      });
      const o = options as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      server.keepAliveTimeout = o.keepAliveTimeout ?? KEEP_ALIVE_TIMEOUT_SECONDS * 1000;
      if (typeof o.requestTimeout === 'number') server.requestTimeout = o.requestTimeout;
      if (typeof o.connectionTimeout === 'number') server.setTimeout(o.connectionTimeout);
      return server;
    },
    loggerInstance: deps.logger as FastifyBaseLogger,
    // The access log is our own onResponse line (one per request); Fastify's two default lines are off.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.maxBodyBytes,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Longer than the load balancer's idle timeout, so the load balancer closes first (contract).
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
  });

  // Per-request hooks take `done` rather than being async (a promise and a microtask each, issue 15).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });

  app.addHook('onSend', (_req, reply, payload, done) => {
    // While draining, ask clients to reconnect (to another instance) after this response.
    if (deps.lifecycle.stopping) reply.header('connection', 'close');
    done(null, payload);
  });

  // The access log is at debug: a line per request at info cost a µs-scale model about a sixth
  // of its throughput (issue 15). Failures are logged at error by the error handler regardless;
  // `--log-level debug` turns the access log on.
  app.addHook('onResponse', (req, reply, done) => {
    if (deps.logger.isLevelEnabled('debug')) {
      req.log.debug({ method: req.method, url: req.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, ...(req.inferenceLabels ?? {}) }, 'request');
    }
    deps.metrics.countTally(deps.metrics.httpRequests, { route: req.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) }).n++;
    done();
  });

  app.setErrorHandler((err: FastifyError | InferenceError, req, reply) => {
    if (err instanceof InferenceError) {
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
      if (err.statusCode >= 500 && err.statusCode !== 503) req.log.error({ err }, 'request failed');
      return reply.code(err.statusCode).type('application/json').send({ error: err.message });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).type('application/json').send({ error: clientErrorMessage(err, deps.maxBodyBytes) });
    }
    if (status === 503) {
      return reply.code(503).header('retry-after', '1').type('application/json').send({ error: err.message });
    }
    req.log.error({ err }, 'unexpected error');
    return reply.code(500).type('application/json').send({ error: `internal error: ${err.message}` });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).type('application/json').send({ error: `no route ${req.method} ${req.url.split('?')[0]}; see GET /v2 and /v2/models/<model>` });
  });

  // Before any route: its onRequest hook rejects unauthenticated requests before their body is read.
  void app.register(authPlugin, { tokens: deps.authTokens ?? [], adminTokens: deps.adminTokens });

  app.get(METRICS_PATH, { config: { health: true } }, async (_req, reply) => {
    deps.saturation.refresh();
    reply.type(deps.metrics.contentType);
    return deps.metrics.render();
  });

  const budget = new BytesBudget(deps.maxRequestBytesInFlight ?? defaultRequestBytesInFlight(deps.maxBodyBytes));
  deps.metrics.watchRequestBytes(budget);
  void app.register(protocolRoutes, {
    models: deps.models,
    metrics: deps.metrics,
    lifecycle: deps.lifecycle,
    serverName: 'onnx-fleet',
    serverVersion: deps.serverVersion,
    maxBodyBytes: deps.maxBodyBytes,
    budget,
  });

  void app.register(repositoryRoutes, { models: deps.models, mode: deps.modelControlMode ?? 'none' });

  return app;
}
