/**
 * Wires the runtime together and runs its lifecycle: load and warm every model, then listen (ready
 * when every model has a READY version), then on stop: ready turns 503, keep serving for the drain delay, close
 * the listener, let in-flight requests finish within the exit timeout, release the workers.
 */
import pino, { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app';
import { loadAdminTokens, loadAuthTokens } from './auth';
import type { RuntimeConfig } from './config';
import { Lifecycle } from './lifecycle';
import { RuntimeMetrics } from './metrics';
import { ModelManager } from './models/model-manager';
import { WorkerPool } from './workers/worker-pool';
import { openRepositorySource, startPolling } from './models/repository-poller';
import { captureRoutes, startCapture } from './capture/runtime-capture';
import { SaturationSignal } from './scheduling/saturation';
import type { CloudWatchPublisher, ReleaseHealth } from './cloudwatch-publisher';

export { VERSION } from './version';
import { VERSION } from './version';
import { IdleHeapTrim, exposedGc } from './idle-heap-trim';
import v8 from 'node:v8';

export interface Runtime {
  app: FastifyInstance;
  models: ModelManager;
  /** The inference workers every model version's sessions live in. */
  pool: WorkerPool;
  lifecycle: Lifecycle;
  metrics: RuntimeMetrics;
  logger: Logger;
  /** The address the server listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Resolved: startRuntime returns once every model is loaded (or has failed to). */
  loaded: Promise<void>;
  /** The stop sequence. Resolves true when every in-flight request finished in time. */
  stop(options?: { skipDrain?: AbortSignal }): Promise<boolean>;
}

export function createLogger(level: RuntimeConfig['logLevel']): Logger {
  return pino({
    level,
    base: { service: 'onnx-fleet', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
  });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

export async function startRuntime(config: RuntimeConfig, logger = createLogger(config.logLevel)): Promise<Runtime> {
  const authTokens = await loadAuthTokens(config);
  const adminTokens = await loadAdminTokens(config);
  const metrics = new RuntimeMetrics();
  const lifecycle = new Lifecycle();
  const pool = new WorkerPool({ workers: config.workers, nice: config.workerNice });
  const source = openRepositorySource(config.modelRepository, config.modelCacheDir, logger, metrics);
  const models = new ModelManager({
    repository: source.dir,
    sync: source.sync,
    pool,
    metrics,
    logger,
    intraOpThreads: config.intraOpThreads,
    // Release gating with a remote repository: loads are recorded there, and a poll-mode start begins from a proven version.
    startFromProven: config.modelControlMode === 'poll' && source.reportLoaded !== undefined,
    onLoaded: source.reportLoaded ? (v) => void source.reportLoaded!(v.model, v.version) : undefined,
  });
  const saturation = new SaturationSignal(models, config.workers, metrics);
  const app = buildApp({ models, metrics, saturation, lifecycle, logger, maxBodyBytes: config.maxBodyBytes, maxRequestBytesInFlight: config.maxRequestBytesInFlight, serverVersion: VERSION, authTokens, adminTokens, modelControlMode: config.modelControlMode });
  const publisher = config.autoScalingGroupName ? await startCloudWatchPublisher(config, saturation, models, metrics, logger) : undefined;
  // Data capture (when configured): replays its journal and starts flushing before the port opens.
  const capture = await startCapture(config, logger, metrics);
  if (capture) {
    app.decorate('capture', capture);
    void app.register(captureRoutes, { capture });
  }

  // Like Triton, load (and warm) every model before opening the port: a process that is not yet
  // listening refuses connections, which load balancers retry elsewhere, instead of answering 503.
  logger.info({ workers: config.workers, intraOpThreads: config.intraOpThreads, workerNice: config.workerNice, repository: config.modelRepository, modelControlMode: config.modelControlMode }, 'loading models');
  try {
    await models.loadAll();
  } catch (err) {
    await pool.close();
    source.close();
    throw err;
  }
  const stopPolling = config.modelControlMode === 'poll' ? startPolling(() => models.refresh(), config.repositoryPollSecs, logger) : () => undefined;
  lifecycle.to('serving');
  if (models.allReady) logger.info({ models: models.list().map((m) => m.name) }, 'models ready');
  else logger.error({ reasons: models.notReadyReasons() }, 'not ready: some models have no version that loads; readiness stays 503');
  const degraded = models.unavailableVersions();
  if (degraded.length > 0) logger.warn({ versions: degraded }, 'some versions are unavailable; their models are served by other versions');
  const url = await app.listen({ host: config.host, port: config.port });
  logger.info({ url, ready: models.allReady }, 'listening');
  // After a burst, the garbage the heap floor lets stay is collected once the server is quiet (idle-heap-trim.ts).
  const gc = exposedGc();
  const trim = gc ? new IdleHeapTrim({ collect: gc, heapUsed: () => v8.getHeapStatistics().used_heap_size }).start() : undefined;
  if (trim) app.server.on('request', () => trim.activity());
  const loaded = Promise.resolve();

  const stop = async (options: { skipDrain?: AbortSignal } = {}): Promise<boolean> => {
    lifecycle.to('draining');
    stopPolling();
    trim?.stop();
    logger.info({ drainDelaySeconds: config.drainDelaySeconds }, 'draining: readiness now 503, still serving');
    await sleep(config.drainDelaySeconds * 1000, options.skipDrain);
    lifecycle.to('closing');
    logger.info({ pending: models.pending, exitTimeoutSeconds: config.exitTimeoutSeconds }, 'closing listener; finishing in-flight requests');
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      app.close().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), config.exitTimeoutSeconds * 1000))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      logger.error({ pending: models.pending }, 'exit timeout reached with requests still in flight; closing their connections');
      app.server.closeAllConnections();
    }
    await publisher?.stop();
    models.close();
    await pool.close();
    source.close();
    // Flush captured records within the stop margin; what is left stays in the fsync'd journal for the next start.
    await capture?.close(4000);
    logger.info('stopped');
    return finished;
  };

  return { app, models, pool, lifecycle, metrics, logger, url, loaded, stop };
}

/** The AWS SDK is loaded only where the signal is published (instances), not for local serving. */
async function startCloudWatchPublisher(config: RuntimeConfig, signal: SaturationSignal, releases: ReleaseHealth, metrics: RuntimeMetrics, logger: Logger): Promise<CloudWatchPublisher> {
  const [{ CloudWatchClient }, { CloudWatchPublisher }] = await Promise.all([import('@aws-sdk/client-cloudwatch'), import('./cloudwatch-publisher')]);
  // No SDK retries: a period that fails is counted and the next one, 10 s later, carries fresher numbers.
  const client = new CloudWatchClient({ maxAttempts: 1 });
  const publisher = new CloudWatchPublisher({ client, signal, releases, metrics, logger, autoScalingGroupName: config.autoScalingGroupName!, namespace: config.cloudwatchNamespace });
  publisher.start();
  logger.info({ namespace: config.cloudwatchNamespace, autoScalingGroupName: config.autoScalingGroupName }, 'publishing the saturation signal to CloudWatch');
  return publisher;
}
