/**
 * Loads the model repository into the worker pool and answers "which model version serves this
 * request, and is it ready?". A model or version that fails to load is logged and kept with its
 * reason (UNAVAILABLE), never a crash.
 *
 * Readiness rule: the server is ready when every model has at least one READY version. Under a
 * `latest` version policy a version that fails to load gives its place to the next older version
 * on disk, so one broken new version never takes a model (or an instance, or a fleet) down while
 * an older version works.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { InferenceError, notFound, unavailable } from '../errors';
import type { RuntimeMetrics } from '../metrics';
import type { InferRequest, ModelSignature } from '../protocol/types';
import type { BatchPolicy } from '../scheduling/batching';
import { BatchMeasurement, calibrationSizes, chooseBatchSize, combineWorkers } from '../scheduling/batch-calibration';
import { Dispatcher } from '../scheduling/dispatcher';
import { ModelExecutor } from '../scheduling/model-executor';
import { InferOutcome, ModelQueue } from '../scheduling/model-queue';
import type { LoadTask, WireTensor, WireValueMetadata } from '../workers/messages';
import type { WorkerPool } from '../workers/worker-pool';
import type { ModelConfig } from './model-config';
import { signatureFromMetadata } from './ort-types';
import { checkExternalData, checkTensorsOnly, describeLoadFailure } from './load-checks';
import { OnnxGraphInfo, readOnnxGraph } from './onnx-graph';
import { automaticCandidates, explicitFeeds } from './warmup';
import { ModelEntry, VersionEntry, scanRepository } from './repository';

export type VersionState = 'LOADING' | 'READY' | 'UNAVAILABLE';

export interface ModelVersion {
  model: string;
  version: number;
  file: string;
  config: ModelConfig;
  state: VersionState;
  /** Why the version is UNAVAILABLE. */
  reason?: string;
  signature?: ModelSignature;
  /** How batches are sized: the config's preferred sizes, or the size calibration measured best. */
  batching?: { preferredBatchSize: number; source: 'config' | 'calibrated' | 'maximum'; measured?: BatchMeasurement[] };
  /** A warmup inference ran in every worker (false: served, but its first requests pay the warm-up cost). */
  warmed?: boolean;
  queue?: ModelQueue;
  executor?: ModelExecutor;
}

export interface Model {
  name: string;
  config: ModelConfig;
  /** Newest first. */
  versions: ModelVersion[];
  /** Set when the model as a whole cannot be served (bad config.json, no versions on disk). */
  error?: string;
}

/** Wall time batch calibration spends per candidate size (all workers at once). */
const CALIBRATION_MS_PER_SIZE = 60;

/** Time the automatic warmup may spend on one version before serving it not warmed. */
export const AUTOMATIC_WARMUP_BUDGET_MS = 20_000;

const describeFeeds = (feeds: WireTensor[]) => feeds.map((t) => `${t.name}[${t.dims.join(',')}]`).join(' ');

export interface ModelManagerDeps {
  repository: string;
  pool: WorkerPool;
  metrics: RuntimeMetrics;
  logger: Logger;
  intraOpThreads: number;
}

/**
 * Dynamic batching applies only when configured and when every input has a dynamic leading
 * dimension; otherwise requests run one at a time (and that is logged).
 */
function batchPolicy(config: ModelConfig, signature: ModelSignature, log: Logger): BatchPolicy | undefined {
  if (!config.dynamicBatching || config.maxBatchSize < 1) return undefined;
  const fixed = signature.inputs.filter((s) => s.shape.length === 0 || s.shape[0] !== -1);
  if (fixed.length > 0) {
    log.warn({ inputs: fixed.map((s) => s.name) }, 'dynamic_batching ignored: these inputs have no dynamic leading dimension');
    return undefined;
  }
  return { ...config.dynamicBatching, maxBatchSize: config.maxBatchSize };
}

export class ModelManager {
  private models = new Map<string, Model>();
  readonly dispatcher: Dispatcher;
  private loading = true;

  constructor(private readonly deps: ModelManagerDeps) {
    this.dispatcher = new Dispatcher(deps.pool);
  }

  /** Scans the repository and loads every selected version in every worker. Never throws for one model. */
  async loadAll(): Promise<void> {
    const entries = scanRepository(this.deps.repository);
    if (entries.length === 0) this.deps.logger.warn({ repository: this.deps.repository }, 'model repository holds no models');
    for (const entry of entries) this.models.set(entry.name, this.toModel(entry));
    await Promise.all(entries.map((entry) => this.loadModel(this.models.get(entry.name)!, entry.fallbacks)));
    this.loading = false;
    for (const model of this.models.values()) {
      if (model.error) this.deps.logger.error({ model: model.name, reason: model.error }, 'model cannot be served');
    }
  }

  private toModel(entry: ModelEntry): Model {
    return { name: entry.name, config: entry.config, error: entry.error, versions: entry.versions.map((v) => this.newVersion(entry.name, entry.config, v)) };
  }

  private newVersion(model: string, config: ModelConfig, v: VersionEntry): ModelVersion {
    return { model, version: v.version, file: v.file, config, state: 'LOADING' };
  }

  /**
   * Loads a model's chosen versions; each one that fails is replaced by the next older version on
   * disk (`fallbacks`, non-empty only under a `latest` policy) until enough load or none is left.
   */
  private async loadModel(model: Model, fallbacks: VersionEntry[]): Promise<void> {
    await Promise.all(model.versions.map((v) => this.loadVersion(v)));
    const older = [...fallbacks];
    let failed = model.versions.filter((v) => v.state === 'UNAVAILABLE');
    while (failed.length > 0 && older.length > 0) {
      const next = older.splice(0, failed.length).map((e) => this.newVersion(model.name, model.config, e));
      this.deps.logger.warn({ model: model.name, failed: failed.map((v) => v.version), trying: next.map((v) => v.version) }, 'newest version(s) failed to load; trying the next older version(s) on disk');
      model.versions.push(...next);
      await Promise.all(next.map((v) => this.loadVersion(v)));
      failed = next.filter((v) => v.state === 'UNAVAILABLE');
    }
  }

  private async loadVersion(v: ModelVersion): Promise<void> {
    const key = `${v.model}@${v.version}`;
    const log = this.deps.logger.child({ model: v.model, version: v.version });
    const session = { key, file: v.file, intraOpThreads: v.config.intraOpThreads ?? this.deps.intraOpThreads };
    const labels = { model: v.model, version: String(v.version) };
    this.deps.metrics.registerModel(v.model, String(v.version));
    let stage = 'failed to load';
    try {
      // What onnxruntime-node's metadata does not say, read from the file (undefined if unreadable:
      // onnxruntime then gives the reason).
      let graph: OnnxGraphInfo | undefined;
      try {
        graph = readOnnxGraph(v.file);
      } catch {
        graph = undefined;
      }
      checkExternalData(graph, v.file);
      // Sessions first, so warmup feeds can be built from the model's own signature.
      const probe = await this.deps.pool.loadEverywhere({ op: 'load', ...session }).catch((err: unknown) => {
        throw new Error(describeLoadFailure(err, graph));
      });
      checkTensorsOnly(probe.inputs, probe.outputs, graph);
      const signature = signatureFromMetadata(probe.inputs, probe.outputs, graph?.defaultedInputs);
      let warmupMs: number | null = null;
      let warmFeeds: WireTensor[] | undefined;
      if (typeof v.config.warmup === 'object') {
        stage = 'failed its explicit warmup (config.json "warmup")';
        warmFeeds = explicitFeeds(v.config.warmup, probe.inputs, signature, path.dirname(path.dirname(v.file)));
        warmupMs = (await this.deps.pool.loadEverywhere({ op: 'load', ...session, warmup: warmFeeds })).warmupMs;
        v.warmed = true;
      } else if (v.config.warmup) {
        const warm = await this.automaticWarmup(session, probe.inputs, signature, log);
        warmupMs = warm?.warmupMs ?? null;
        warmFeeds = warm?.feeds;
        v.warmed = warm !== null;
      } else {
        v.warmed = false;
      }
      v.signature = signature;
      v.queue = new ModelQueue(key, v.config.queuePolicy, (cause) => this.deps.metrics.shed.inc({ ...labels, cause }));
      stage = 'failed its batch calibration';
      const policy = await this.calibratedPolicy(v, session, batchPolicy(v.config, signature, log), warmFeeds, log);
      v.executor = new ModelExecutor(v.queue, this.deps.pool, session, this.deps.metrics, v.model, String(v.version), policy);
      this.dispatcher.add(v.executor);
      v.state = 'READY';
      this.deps.metrics.modelReady.set(labels, 1);
      this.deps.metrics.modelWarmed.set(labels, v.warmed ? 1 : 0);
      log.info({ loadMs: Math.round(probe.loadMs), warmupMs: warmupMs === null ? null : Math.round(warmupMs), warmed: v.warmed, workers: this.deps.pool.size }, 'model version ready');
    } catch (err) {
      v.state = 'UNAVAILABLE';
      v.reason = `${stage} ${v.file}: ${err instanceof Error ? err.message : String(err)}`;
      log.error({ reason: v.reason }, 'model version unavailable');
      await this.deps.pool.unloadEverywhere(key);
    }
  }

  /**
   * Tries the automatic warmup candidates on one worker; the first that runs warms every worker.
   * Returns the warmup time, or null when no candidate ran (the version is still served: a model
   * that loaded is never made unavailable by a guess at its inputs).
   */
  /**
   * The batch policy with its sizes: config.json's preferred_batch_size when given (Triton's
   * semantics); else measured at load (batch-calibration.ts) when a warmup ran (its feeds are one
   * request the model accepts); else the largest allowed, as before.
   */
  private async calibratedPolicy(v: ModelVersion, session: Omit<LoadTask, 'op'>, policy: BatchPolicy | undefined, feeds: WireTensor[] | undefined, log: Logger): Promise<BatchPolicy | undefined> {
    if (!policy) return undefined;
    if (policy.preferredBatchSizes.length > 0) {
      v.batching = { preferredBatchSize: policy.preferredBatchSizes[policy.preferredBatchSizes.length - 1], source: 'config' };
      return policy;
    }
    if (!feeds || policy.maxBatchSize < 2) {
      v.batching = { preferredBatchSize: policy.maxBatchSize, source: 'maximum' };
      return policy;
    }
    const sizes = calibrationSizes(policy.maxBatchSize);
    const started = performance.now();
    const perWorker = await this.deps.pool.calibrateEverywhere({ op: 'calibrate', ...session, feeds, sizes, msPerSize: CALIBRATION_MS_PER_SIZE });
    const measured = combineWorkers(perWorker.map((r) => r.runs));
    const chosen = chooseBatchSize(measured);
    v.batching = { preferredBatchSize: chosen, source: 'calibrated', measured };
    log.info({ batchSize: chosen, maxBatchSize: policy.maxBatchSize, inferencesPerSecond: Object.fromEntries(measured.map((m) => [m.batch, m.inferencesPerSecond])), ms: Math.round(performance.now() - started) }, 'batch size calibrated');
    // The largest batch formed is the calibrated size; requests up to max_batch_size are still accepted (and run alone).
    return { ...policy, maxBatchSize: chosen, preferredBatchSizes: [chosen] };
  }

  private async automaticWarmup(session: Omit<LoadTask, 'op'>, meta: WireValueMetadata[], signature: ModelSignature, log: Logger): Promise<{ warmupMs: number; feeds: WireTensor[] } | null> {
    const candidates = automaticCandidates(meta, signature);
    const deadline = Date.now() + AUTOMATIC_WARMUP_BUDGET_MS;
    const refused: string[] = [];
    for (const feeds of candidates) {
      if (Date.now() > deadline) {
        refused.push(`stopped after ${AUTOMATIC_WARMUP_BUDGET_MS / 1000} s`);
        break;
      }
      try {
        await this.deps.pool.loadOn(0, { op: 'load', ...session, warmup: feeds });
      } catch (err) {
        refused.push(`${describeFeeds(feeds)}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      try {
        const all = await this.deps.pool.loadEverywhere({ op: 'load', ...session, warmup: feeds });
        log.debug({ feeds: describeFeeds(feeds), tried: refused.length + 1 }, 'automatic warmup ran');
        return { warmupMs: all.warmupMs, feeds };
      } catch (err) {
        refused.push(`${describeFeeds(feeds)} ran in one worker but not in all: ${err instanceof Error ? err.message : String(err)}`);
        break;
      }
    }
    log.warn(
      { tried: candidates.length, reasons: refused.length > 2 ? [refused[0], refused[refused.length - 1]] : refused, hint: 'give config.json "warmup" shapes or sample data files (see the README: bring your own model)' },
      'automatic warmup found no inputs this model accepts; serving it not warmed',
    );
    return null;
  }

  /** A model can be served when it has at least one READY version. */
  static servable(model: Model): boolean {
    return !model.error && model.versions.some((v) => v.state === 'READY');
  }

  /** True when every model has at least one READY version (the readiness rule above). */
  get allReady(): boolean {
    if (this.loading) return false;
    for (const model of this.models.values()) if (!ModelManager.servable(model)) return false;
    return true;
  }

  /** Why the server is not ready (the models with no READY version), for logs and the ready endpoint. */
  notReadyReasons(): string[] {
    if (this.loading) return ['models are loading'];
    const reasons: string[] = [];
    for (const model of this.models.values()) {
      if (ModelManager.servable(model)) continue;
      if (model.error) reasons.push(`${model.name}: ${model.error}`);
      for (const v of model.versions) reasons.push(`${model.name}/${v.version}: ${v.reason ?? v.state}`);
    }
    return reasons;
  }

  /** Versions that are not READY although their model is served by another version (for logs). */
  unavailableVersions(): string[] {
    const out: string[] = [];
    for (const model of this.models.values()) {
      if (!ModelManager.servable(model)) continue;
      for (const v of model.versions) if (v.state !== 'READY') out.push(`${model.name}/${v.version}: ${v.reason ?? v.state}`);
    }
    return out;
  }

  list(): Model[] {
    return [...this.models.values()];
  }

  model(name: string): Model {
    const model = this.models.get(name);
    if (!model) {
      const known = [...this.models.keys()];
      throw notFound(`unknown model '${name}'; this server serves ${known.length ? known.map((k) => `'${k}'`).join(', ') : 'no models'}`);
    }
    return model;
  }

  /**
   * The version a request addresses: the given one, or the newest READY one. Unknown → 404,
   * known but not ready → 503 with the reason.
   */
  version(name: string, version?: string): ModelVersion {
    const model = this.model(name);
    if (version === undefined) {
      const ready = model.versions.find((v) => v.state === 'READY');
      if (ready) return ready;
      const why = model.error ?? model.versions.map((v) => `version ${v.version}: ${v.reason ?? v.state}`).join('; ');
      throw unavailable(`model '${name}' has no ready version (${why})`);
    }
    const v = /^[1-9]\d*$/.test(version) ? model.versions.find((x) => x.version === Number(version)) : undefined;
    if (!v) {
      const served = model.versions.map((x) => x.version).join(', ') || 'none';
      throw notFound(`unknown version '${version}' of model '${name}'; versions served: ${served}`);
    }
    if (v.state !== 'READY') throw unavailable(`model '${name}' version ${v.version} is not ready: ${v.reason ?? v.state}`);
    return v;
  }

  /** Queues a validated request for a READY version. */
  infer(v: ModelVersion, request: InferRequest, timeoutUs?: number): Promise<InferOutcome> {
    if (!v.queue) throw new InferenceError('unavailable', `model '${v.model}' version ${v.version} is not ready`);
    const outcome = v.queue.enqueue(request, timeoutUs);
    this.dispatcher.notify();
    return outcome;
  }

  /** Requests queued or executing over all models. */
  get pending(): number {
    let n = 0;
    for (const m of this.models.values()) for (const v of m.versions) n += v.queue?.pending ?? 0;
    return n;
  }

  close(): void {
    this.dispatcher.close();
  }
}
