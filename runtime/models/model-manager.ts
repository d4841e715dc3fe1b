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
import type { CountTally, RuntimeMetrics } from '../metrics';
import type { InferRequest, ModelSignature } from '../protocol/types';
import type { BatchPolicy } from '../scheduling/batching';
import { BatchMeasurement, calibrationSizes, chooseBatchSize, measureThroughput, tileFeeds } from '../scheduling/batch-calibration';
import { Dispatcher } from '../scheduling/dispatcher';
import { StandingQueueRule } from '../scheduling/standing-queue';
import { ModelExecutor, transferableInputs } from '../scheduling/model-executor';
import { InferOutcome, ModelQueue, ShedCause } from '../scheduling/model-queue';
import { WaitEstimator } from '../scheduling/wait-estimate';
import { ExecutionThread, Runner, WorkerRunner } from '../scheduling/runners';
import { INLINE_MAX_RUN_US, InlineRunner } from '../scheduling/inline-runner';
import type { LoadTask, WireTensor, WireValueMetadata } from '../workers/messages';
import { MAX_TASKS_PER_WORKER, type WorkerPool } from '../workers/worker-pool';
import type { ModelConfig } from './model-config';
import { signatureFromMetadata } from './ort-types';
import { checkExternalData, checkTensorsOnly, describeLoadFailure } from './load-checks';
import { OnnxGraphInfo, readOnnxGraph } from './onnx-graph';
import { automaticCandidates, explicitFeeds } from './warmup';
import { ModelEntry, VersionEntry, scanModel, scanRepository } from './repository';
import { CanaryRoute } from './canary';
import { MemoryCheck } from './memory-check';

export type VersionState = 'LOADING' | 'READY' | 'UNAVAILABLE';

export interface ModelVersion {
  model: string;
  version: number;
  file: string;
  /** Identifies this load of the version (its files and config): see VersionEntry.digest. */
  digest: string;
  bytes: number;
  /** Session key in the workers: "<model>@<version>#<digest>", so a reload never collides with the copy serving. */
  key: string;
  config: ModelConfig;
  state: VersionState;
  /** Why the version is UNAVAILABLE, or why a newer copy of a READY version failed to replace it. */
  reason?: string;
  signature?: ModelSignature;
  /** The workers holding a session of this version (instance_group); all workers when absent. */
  workers?: number[];
  /** Number of instances (sessions) of this version. */
  instances?: number;
  /** Memory this version's sessions take (all its instances), bytes; `residentSource` says how it is known. */
  residentBytes?: number;
  residentSource?: 'measured' | 'estimated';
  /** How batches are sized: the config's preferred sizes, or the size calibration measured cheapest. */
  batching?: { preferredBatchSize: number; source: 'config' | 'calibrated' | 'maximum'; measured?: BatchMeasurement[] };
  /**
   * Where executions run (parameters.execution_thread): `measured` when auto chose from
   * `executionRunUs`, the median execution at the largest batch a request can bring.
   */
  execution?: { thread: ExecutionThread; source: 'config' | 'measured' | 'default'; runUs?: number };
  /** A warmup inference ran in every worker (false: served, but its first requests pay the warm-up cost). */
  warmed?: boolean;
  queue?: ModelQueue;
  executor?: ModelExecutor;
}

export interface Model {
  name: string;
  config: ModelConfig;
  /** Served versions (READY) and versions that failed (UNAVAILABLE), newest first. Routing never sees a LOADING one. */
  versions: ModelVersion[];
  /** Set when the model as a whole cannot be served (bad config.json, no versions on disk). */
  error?: string;
  /** Unloaded through the repository API: not served, and not counted by readiness. */
  unloaded?: boolean;
  /** The per-model canary (release.json), when one is loaded. */
  canary?: CanaryRoute;
}

/** Wall time spent timing a model for parameters.execution_thread auto. */
const INLINE_TIMING_MS = 30;

/**
 * True when a request's execution cost is bounded by the largest batch it can bring: every input
 * dimension is fixed but the batch dimension (when batched), and no input is a string tensor.
 */
export function costBoundedByShape(signature: ModelSignature, maxBatchSize: number): boolean {
  return signature.inputs.every((s) => s.datatype !== 'BYTES' && s.shape.every((d, i) => d >= 0 || (i === 0 && maxBatchSize > 0)));
}

/** Wall time batch calibration spends per candidate size and round (all of the version's workers busy). */
const CALIBRATION_MS_PER_SIZE = 60;
/** Rounds over the candidate sizes; each keeps its best (batch-calibration.ts). */
const CALIBRATION_ROUNDS = 3;

/**
 * Time the automatic warmup may spend on one version before serving it not warmed: the time its
 * candidates take in the worker, not the time they wait there behind other models' loads and
 * warmups (at start every model's candidates share the first worker, and a large model's take seconds).
 */
export const AUTOMATIC_WARMUP_BUDGET_MS = 20_000;

const describeFeeds = (feeds: WireTensor[]) => feeds.map((t) => `${t.name}[${t.dims.join(',')}]`).join(' ');

export interface ModelManagerDeps {
  /** The local directory scanned (for an S3 repository: its cache). */
  repository: string;
  pool: WorkerPool;
  metrics: RuntimeMetrics;
  logger: Logger;
  intraOpThreads: number;
  /** Brings `repository` up to date with a remote one before each scan (S3); absent for local directories. */
  sync?: () => Promise<unknown>;
  memory?: MemoryCheck;
  /** Release gating at start (poll mode, remote repository): start each model from a proven version (load-markers.ts). */
  startFromProven?: boolean;
  /** A version became READY (loaded and warmed in every worker): release gating records it. Never awaited. */
  onLoaded?: (v: ModelVersion) => void;
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
  /** Reconciliations run one at a time (poll ticks, explicit loads and unloads queue behind each other). */
  private serial: Promise<unknown> = Promise.resolve();
  private readonly memory: MemoryCheck;
  /** Versions being drained and unloaded. */
  private readonly retiring = new Set<Promise<void>>();
  /** The batch calibration in progress (they run one at a time). */
  private calibrating: Promise<unknown> = Promise.resolve();
  /** File bytes of the versions each worker holds, to place instance groups on the least loaded workers. */
  private readonly workerBytes: number[] = [];
  private failedLoads = 0;

  constructor(private readonly deps: ModelManagerDeps) {
    this.dispatcher = new Dispatcher();
    deps.pool.onTaskFinished(() => this.dispatcher.notify());
    this.memory = deps.memory ?? new MemoryCheck();
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.serial.then(work, work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /** Scans the repository and loads every selected version in every worker. Never throws for one model. */
  async loadAll(): Promise<void> {
    await this.exclusive(async () => {
      await this.deps.sync?.();
      const entries = scanRepository(this.deps.repository, { startFromProven: this.deps.startFromProven });
      if (entries.length === 0) this.deps.logger.warn({ repository: this.deps.repository }, 'model repository holds no models');
      for (const e of entries) {
        if (e.startedFrom) this.deps.logger.warn({ model: e.name, release: e.startedFrom.wanted, startingFrom: e.startedFrom.from }, 'release not loaded anywhere without error yet: starting from the last proven version; the release loads beside it at the first poll');
      }
      await Promise.all(entries.map((entry) => this.reconcile(entry)));
    });
    this.loading = false;
    // From now on a load happens beside serving: one worker at a time, so the others keep serving.
    this.deps.pool.loadOneAtATime = true;
    for (const model of this.models.values()) {
      if (model.error) this.deps.logger.error({ model: model.name, reason: model.error }, 'model cannot be served');
    }
  }

  /**
   * Brings every model to what the repository holds now (poll mode's tick): new versions are loaded
   * and warmed beside the serving ones, then traffic switches; removed or superseded versions drain
   * and unload; new models load, removed models unload. Returns what changed, for logs and tests.
   */
  refresh(): Promise<void> {
    return this.exclusive(async () => {
      await this.deps.sync?.();
      const entries = scanRepository(this.deps.repository);
      const names = new Set(entries.map((e) => e.name));
      for (const entry of entries) if (!this.models.get(entry.name)?.unloaded) await this.reconcile(entry);
      for (const model of this.models.values()) {
        if (!names.has(model.name) && !model.unloaded) {
          this.deps.logger.info({ model: model.name }, 'model removed from the repository; unloading it');
          this.unloadModel(model, 'removed from the repository');
          this.models.delete(model.name);
        }
      }
    });
  }

  /**
   * Triton's explicit load: (re)loads one model from the repository, optionally with a config
   * override (the JSON of a config.json). Resolves with the model; its versions say what happened.
   */
  load(name: string, configOverride?: string): Promise<{ model: Model; problem?: string }> {
    return this.exclusive(async () => {
      await this.deps.sync?.();
      const entry = scanModel(this.deps.repository, name, configOverride);
      const model = this.models.get(name);
      if (model) model.unloaded = false;
      const problem = await this.reconcile(entry);
      return { model: this.models.get(name)!, problem };
    });
  }

  /** Triton's explicit unload: the model stops taking requests; queued and running ones finish; then its sessions go. */
  unload(name: string): Promise<void> {
    return this.exclusive(async () => {
      const model = this.model(name);
      this.unloadModel(model, 'unloaded through the repository API');
    });
  }

  private unloadModel(model: Model, why: string): void {
    const old = model.versions;
    const canary = model.canary;
    model.versions = [];
    model.canary = undefined;
    model.unloaded = true;
    model.error = why;
    for (const v of old) if (v.state === 'READY') this.retire(v);
    if (canary) this.retire(canary.version);
  }

  /** Resolves once every retiring version has drained and unloaded (tests, and the stop sequence). */
  async settled(): Promise<void> {
    await this.serial;
    while (this.retiring.size > 0) await Promise.all([...this.retiring]);
  }

  /**
   * Make-before-break for one model. Walks the candidate versions newest first and keeps the first
   * N that are READY (an unchanged served copy, or a new one loaded and warmed now in every worker
   * while the old copy keeps serving). A version that fails stays UNAVAILABLE with its reason and
   * is not tried again until its files change; whatever served before keeps serving. Then one
   * assignment switches routing, and the versions no longer kept drain and unload.
   */
  private async reconcile(entry: ModelEntry): Promise<string | undefined> {
    let model = this.models.get(entry.name);
    if (!model) {
      model = { name: entry.name, config: entry.config, versions: [] };
      this.models.set(entry.name, model);
    }
    const served = model.versions.filter((v) => v.state === 'READY');
    if (entry.error) {
      if (served.length > 0) {
        // A broken config.json or release.json never takes down what serves: keep it, say why.
        this.deps.logger.error({ model: entry.name, reason: entry.error }, 'repository change not applied; the versions serving keep serving');
        for (const v of served) v.reason = `latest repository change not applied: ${entry.error}`;
        return `${entry.error} (versions ${served.map((v) => v.version).join(', ')} keep serving)`;
      }
      model.error = entry.error;
      return entry.error;
    }
    model.error = undefined;
    model.config = entry.config;
    const previous = model.versions;
    const failed = (version: number, digest: string) => previous.find((v) => v.version === version && v.digest === digest && v.state === 'UNAVAILABLE');
    const latestLike = entry.release !== undefined || 'latest' in entry.config.versionPolicy;
    const want = latestLike ? entry.versions.length : Number.POSITIVE_INFINITY;
    const candidates = latestLike ? [...entry.versions, ...entry.fallbacks] : entry.versions;
    const keep: ModelVersion[] = [];
    const unavailable: ModelVersion[] = [];
    const problems: string[] = [];
    for (const e of candidates) {
      if (keep.length >= want) break;
      const current = served.find((v) => v.version === e.version);
      if (current && current.digest === e.digest) {
        current.reason = undefined;
        keep.push(current);
        continue;
      }
      const stillBroken = failed(e.version, e.digest);
      if (stillBroken) {
        // Not retried until its files change.
        if (current) keep.push(current);
        else unavailable.push(stillBroken);
        continue;
      }
      const next = this.newVersion(entry.name, entry.config, e);
      if (await this.loadVersion(next)) {
        keep.push(next);
      } else if (current) {
        current.reason = `a changed copy failed to load and was not swapped in: ${next.reason}`;
        keep.push(current);
        unavailable.push(next);
        problems.push(`version ${next.version}: ${next.reason}`);
      } else {
        unavailable.push(next);
        problems.push(`version ${next.version}: ${next.reason}`);
      }
    }
    const canary = await this.reconcileCanary(model, entry);
    // The switch: one assignment. Requests already queued on a version finish on it.
    const list = [...keep, ...unavailable.filter((u) => !keep.some((k) => k.version === u.version && k.state === 'READY' && k.digest === u.digest))];
    model.versions = list.sort((a, b) => b.version - a.version || (a.state === 'READY' ? -1 : 1));
    const oldCanary = model.canary;
    model.canary = canary;
    const keptKeys = new Set([...keep.map((v) => v.key), ...(canary ? [canary.version.key] : [])]);
    for (const v of served) if (!keptKeys.has(v.key)) this.retire(v);
    if (oldCanary && !keptKeys.has(oldCanary.version.key)) this.retire(oldCanary.version);
    if (previous.some((v) => !keptKeys.has(v.key) && v.state === 'READY') || keep.some((v) => !served.includes(v))) {
      this.deps.logger.info({ model: model.name, serving: keep.map((v) => v.version), canary: canary ? canary.version.version : null, unavailable: unavailable.map((v) => v.version) }, 'model versions switched');
    }
    if (keep.length === 0) return problems.join('; ') || 'no version loads';
    return problems.length > 0 ? `${problems.join('; ')} (versions ${keep.map((v) => v.version).join(', ')} keep serving)` : undefined;
  }

  /** Loads the release manifest's canary version beside the stable one (or keeps the one loaded). */
  private async reconcileCanary(model: Model, entry: ModelEntry): Promise<CanaryRoute | undefined> {
    const spec = entry.release?.canary;
    if (!spec) return undefined;
    if (!entry.canary) {
      this.deps.logger.error({ model: model.name, version: spec.version }, 'release.json names a canary version that is not in the repository; no canary');
      return undefined;
    }
    const current = model.canary;
    if (current && current.version.digest === entry.canary.digest && current.version.state === 'READY') {
      current.update(spec);
      return current;
    }
    const v = this.newVersion(model.name, entry.config, entry.canary);
    if (!(await this.loadVersion(v))) {
      this.deps.logger.error({ model: model.name, version: spec.version, reason: v.reason }, 'canary version failed to load; no canary');
      return undefined;
    }
    return new CanaryRoute(model.name, v, spec, this.deps.metrics, this.deps.logger);
  }

  /** Drains a version no longer routed to (its queued and running requests finish on it), then unloads it everywhere. */
  private retire(v: ModelVersion): void {
    const done = (async () => {
      while ((v.queue?.pending ?? 0) > 0) await new Promise((r) => setTimeout(r, 5));
      if (v.executor) this.dispatcher.remove(v.executor);
      await v.executor?.runner.release();
      await this.deps.pool.unloadEverywhere(v.key);
      this.releaseInstances(v);
      v.state = 'UNAVAILABLE';
      v.reason = 'unloaded';
      this.deps.metrics.modelReady.set({ model: v.model, version: String(v.version) }, this.isServed(v.model, v.version) ? 1 : 0);
      this.deps.logger.info({ model: v.model, version: v.version }, 'model version drained and unloaded');
    })();
    this.retiring.add(done);
    void done.finally(() => this.retiring.delete(done));
  }

  private isServed(name: string, version: number): boolean {
    const m = this.models.get(name);
    return !!m && (m.versions.some((v) => v.version === version && v.state === 'READY') || m.canary?.version.version === version);
  }

  private newVersion(model: string, config: ModelConfig, v: VersionEntry): ModelVersion {
    return { model, version: v.version, file: v.file, digest: v.digest, bytes: v.bytes, key: `${model}@${v.version}#${v.digest}`, config, state: 'LOADING' };
  }

  /** Loads a version in every worker; true when it is READY. Never throws. */
  /**
   * Picks the workers for a version's instances: all of them by default, else `instance_group`'s
   * count (capped at the pool size) on the workers holding the fewest model bytes.
   */
  private placeInstances(v: ModelVersion): void {
    const n = this.deps.pool.size;
    while (this.workerBytes.length < n) this.workerBytes.push(0);
    const count = v.config.instanceCount;
    v.instances = Math.min(count ?? n, n);
    if (count === undefined || count >= n) {
      v.workers = undefined;
      for (let i = 0; i < n; i++) this.workerBytes[i] += v.bytes;
      return;
    }
    v.workers = [...this.workerBytes.keys()].sort((a, b) => this.workerBytes[a] - this.workerBytes[b] || a - b).slice(0, count).sort((a, b) => a - b);
    for (const i of v.workers) this.workerBytes[i] += v.bytes;
  }

  private releaseInstances(v: ModelVersion): void {
    if (v.execution?.thread === 'main') return; // released when it moved off the workers
    for (const i of v.workers ?? [...this.workerBytes.keys()]) this.workerBytes[i] = Math.max(0, this.workerBytes[i] - v.bytes);
  }

  /** Number of sessions (instances) of a version. */
  private copies(v: ModelVersion): number {
    if (v.execution?.thread === 'main') return 1;
    return v.workers?.length ?? this.deps.pool.size;
  }

  private async loadVersion(v: ModelVersion): Promise<boolean> {
    this.placeInstances(v);
    const refusal = this.memory.refuse(v.bytes, this.copies(v));
    if (refusal) {
      v.state = 'UNAVAILABLE';
      v.reason = `not loaded: ${refusal}`;
      this.deps.metrics.loadFailures.inc({ model: v.model, version: String(v.version), reason: 'memory' });
      this.failedLoads++;
      this.deps.logger.error({ model: v.model, version: v.version, reason: v.reason }, 'model version not loaded: it would not fit in memory');
      this.releaseInstances(v);
      return false;
    }
    const rssBefore = process.memoryUsage.rss();
    await this.loadSessions(v);
    const growth = process.memoryUsage.rss() - rssBefore;
    if (v.state === 'READY' && !this.loading) this.memory.observe(v.bytes, this.copies(v), growth);
    if (v.state === 'READY') {
      // Loads beside serving run alone, so their RSS growth is theirs; at start they overlap, so
      // the size is estimated from the file and the growth per byte measured so far.
      const measured = !this.loading && growth > 0;
      v.residentBytes = measured ? growth : this.memory.estimate(v.bytes, this.copies(v));
      v.residentSource = measured ? 'measured' : 'estimated';
      this.deps.metrics.residentBytes.set({ model: v.model, version: String(v.version) }, v.residentBytes);
    }
    if (v.state !== 'READY') {
      this.deps.metrics.loadFailures.inc({ model: v.model, version: String(v.version), reason: 'load' });
      this.failedLoads++;
      this.releaseInstances(v);
    }
    return v.state === 'READY';
  }

  private async loadSessions(v: ModelVersion): Promise<void> {
    const key = v.key;
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
      const probe = await this.deps.pool.loadEverywhere({ op: 'load', ...session }, v.workers).catch((err: unknown) => {
        throw new Error(describeLoadFailure(err, graph));
      });
      checkTensorsOnly(probe.inputs, probe.outputs, graph);
      const signature = signatureFromMetadata(probe.inputs, probe.outputs, graph?.defaultedInputs);
      let warmupMs: number | null = null;
      let warmFeeds: WireTensor[] | undefined;
      if (typeof v.config.warmup === 'object') {
        stage = 'failed its explicit warmup (config.json "warmup")';
        warmFeeds = explicitFeeds(v.config.warmup, probe.inputs, signature, path.dirname(path.dirname(v.file)));
        warmupMs = (await this.deps.pool.loadEverywhere({ op: 'load', ...session, warmup: warmFeeds }, v.workers)).warmupMs;
        v.warmed = true;
      } else if (v.config.warmup) {
        const warm = await this.automaticWarmup(session, probe.inputs, signature, log, v.workers);
        warmupMs = warm?.warmupMs ?? null;
        warmFeeds = warm?.feeds;
        v.warmed = warm !== null;
      } else {
        v.warmed = false;
      }
      v.signature = signature;
      stage = 'failed its batch calibration';
      const policy = await this.calibratedPolicy(v, session, batchPolicy(v.config, signature, log), warmFeeds, log);
      stage = 'failed to start on the main thread (parameters.execution_thread)';
      const runner = await this.placeExecution(v, session, signature, warmFeeds, warmupMs, log);
      v.instances = this.copies(v);
      const metrics = this.deps.metrics;
      const sheds = new Map<ShedCause, CountTally>();
      const onShed = (cause: ShedCause) => {
        let t = sheds.get(cause);
        if (!t) sheds.set(cause, (t = metrics.countTally(metrics.shed, { ...labels, cause })));
        t.n++;
      };
      // One batch of the size it forms per instance: what keeps every instance busy (standing-queue.ts).
      const batch = policy ? (policy.preferredBatchSizes[policy.preferredBatchSizes.length - 1] ?? policy.maxBatchSize) : 1;
      v.queue = new ModelQueue(`${v.model}@${v.version}`, v.config.queuePolicy, onShed, new WaitEstimator(this.copies(v)), new StandingQueueRule(this.copies(v) * batch));
      v.executor = new ModelExecutor(v.queue, runner, this.deps.metrics, v.model, String(v.version), policy);
      this.dispatcher.add(v.executor);
      v.state = 'READY';
      this.deps.metrics.modelReady.set(labels, 1);
      this.deps.metrics.modelWarmed.set(labels, v.warmed ? 1 : 0);
      this.deps.onLoaded?.(v);
      log.info({ loadMs: Math.round(probe.loadMs), warmupMs: warmupMs === null ? null : Math.round(warmupMs), warmed: v.warmed, instances: this.copies(v), workers: v.execution?.thread === 'main' ? 'none (main thread)' : (v.workers ?? 'all'), execution: v.execution }, 'model version ready');
    } catch (err) {
      v.state = 'UNAVAILABLE';
      v.reason = `${stage} ${v.file}: ${err instanceof Error ? err.message : String(err)}`;
      log.error({ reason: v.reason }, 'model version unavailable');
      await this.deps.pool.unloadEverywhere(key);
    }
  }

  /**
   * Where the version's executions run (parameters.execution_thread). auto: on the main thread when
   * its execution at the largest batch a request can bring, timed on a worker, is below
   * INLINE_MAX_RUN_US — only for warmed models without an explicit instance_group whose cost is
   * bounded by that measurement (every dimension fixed but the batch, no strings). A version
   * moved to the main thread gives up its worker sessions.
   */
  private async placeExecution(v: ModelVersion, session: Omit<LoadTask, 'op'>, signature: ModelSignature, feeds: WireTensor[] | undefined, warmupMs: number | null, log: Logger): Promise<Runner> {
    const setting = v.config.executionThread;
    const onWorkers = (source: 'config' | 'measured' | 'default', runUs?: number): Runner => {
      v.execution = { thread: 'worker', source, ...(runUs === undefined ? {} : { runUs: Math.round(runUs) }) };
      return new WorkerRunner(this.deps.pool, session, v.workers);
    };
    if (setting === 'worker') return onWorkers('config');
    let runUs: number | undefined;
    if (setting === 'auto') {
      if (!feeds || v.config.instanceCount !== undefined) return onWorkers('default');
      // The warmup run (one request's shape, no larger than the timed batch) already took 1,000
      // times the threshold: timing it again would only cost another slow run (seconds for a segmentation model).
      const warmupUs = warmupMs === null ? undefined : warmupMs * 1000;
      if (warmupUs !== undefined && warmupUs > 1000 * INLINE_MAX_RUN_US) return onWorkers('measured', warmupUs);
      const timed = v.config.maxBatchSize > 0 ? tileFeeds(feeds, v.config.maxBatchSize) : feeds;
      // A run 1,000 times over the threshold decides it at once (a segmentation model takes seconds).
      runUs = (await this.deps.pool.timeOn(this.deps.pool.leastBusy(v.workers), { op: 'time', ...session, feeds: timed, ms: INLINE_TIMING_MS, enoughAboveUs: INLINE_MAX_RUN_US * 1000 })).runUs;
      if (runUs > INLINE_MAX_RUN_US) return onWorkers('measured', runUs);
      // Fast at the warmup's shape, but a request may bring larger dimensions: not measured, so not inline.
      if (!costBoundedByShape(signature, v.config.maxBatchSize)) return onWorkers('default', runUs);
    }
    const runner = await InlineRunner.create(session);
    try {
      if (feeds) await runner.run(feeds);
    } catch (err) {
      await runner.release();
      throw err;
    }
    this.releaseInstances(v);
    v.execution = { thread: 'main', source: setting === 'main' ? 'config' : 'measured', ...(runUs === undefined ? {} : { runUs: Math.round(runUs) }) };
    await this.deps.pool.unloadEverywhere(session.key);
    log.info({ runUs: runUs === undefined ? undefined : Math.round(runUs), thresholdUs: INLINE_MAX_RUN_US, source: v.execution.source }, 'model runs on the main thread (no worker hop)');
    return runner;
  }

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
    const pool = this.deps.pool;
    // Once the server serves, a version loading beside the others keeps one task per worker free
    // for the traffic (the dispatcher only hands work to a worker below MAX_TASKS_PER_WORKER).
    const lanes = (v.workers?.length ?? pool.size) * (pool.loadOneAtATime ? MAX_TASKS_PER_WORKER - 1 : MAX_TASKS_PER_WORKER);
    // One calibration at a time: two versions measured at once would share the workers and each
    // read the other's executions as its own cost.
    const measuring = this.calibrating.then(() =>
      measureThroughput({ feeds, sizes, lanes, msPerSize: CALIBRATION_MS_PER_SIZE, rounds: CALIBRATION_ROUNDS, run: (inputs) => pool.run({ op: 'run', ...session, inputs }, transferableInputs(inputs), v.workers) }),
    );
    this.calibrating = measuring.catch(() => undefined);
    const measured = await measuring;
    const chosen = chooseBatchSize(measured);
    v.batching = { preferredBatchSize: chosen, source: 'calibrated', measured };
    log.info({ batchSize: chosen, maxBatchSize: policy.maxBatchSize, inferencesPerSecond: Object.fromEntries(measured.map((m) => [m.batch, m.inferencesPerSecond])), cpuUsPerInference: Object.fromEntries(measured.map((m) => [m.batch, m.cpuUsPerInference])), ms: Math.round(performance.now() - started) }, 'batch size calibrated');
    // The largest batch formed is the calibrated size; requests up to max_batch_size are still accepted (and run alone).
    return { ...policy, maxBatchSize: chosen, preferredBatchSizes: [chosen] };
  }

  /**
   * Tries the automatic warmup candidates on the least busy worker; the first that runs warms the
   * other workers.
   * Returns the warmup time, or null when no candidate ran (the version is still served: a model
   * that loaded is never made unavailable by a guess at its inputs).
   */
  private async automaticWarmup(session: Omit<LoadTask, 'op'>, meta: WireValueMetadata[], signature: ModelSignature, log: Logger, on?: readonly number[]): Promise<{ warmupMs: number; feeds: WireTensor[] } | null> {
    const candidates = automaticCandidates(meta, signature);
    const trialWorker = this.deps.pool.leastBusy(on);
    let spentMs = 0;
    let warmupMs = 0;
    const refused: string[] = [];
    if (candidates.length === 1) {
      // Every dimension fixed: one candidate, nothing to try first; all workers run it at once.
      const [feeds] = candidates;
      try {
        const all = await this.deps.pool.loadEverywhere({ op: 'load', ...session, warmup: feeds }, on);
        log.debug({ feeds: describeFeeds(feeds), tried: 1 }, 'automatic warmup ran');
        return { warmupMs: all.warmupMs, feeds };
      } catch (err) {
        refused.push(`${describeFeeds(feeds)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const feeds of candidates.length === 1 ? [] : candidates) {
      if (spentMs > AUTOMATIC_WARMUP_BUDGET_MS) {
        refused.push(`stopped after ${AUTOMATIC_WARMUP_BUDGET_MS / 1000} s of warmup runs`);
        break;
      }
      try {
        const trial = await this.deps.pool.loadOn(trialWorker, { op: 'load', ...session, warmup: feeds, trial: true });
        spentMs += trial.loadMs + trial.warmupMs;
        if (trial.warmupError !== undefined) {
          refused.push(`${describeFeeds(feeds)}: ${trial.warmupError}`);
          continue;
        }
        warmupMs = trial.warmupMs;
      } catch (err) {
        refused.push(`${describeFeeds(feeds)}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      try {
        // The trial warmed its worker already; the others run the same feeds.
        const rest = (on ?? Array.from({ length: this.deps.pool.size }, (_, i) => i)).filter((w) => w !== trialWorker);
        if (rest.length > 0) await this.deps.pool.loadEverywhere({ op: 'load', ...session, warmup: feeds }, rest);
        log.debug({ feeds: describeFeeds(feeds), tried: refused.length + 1 }, 'automatic warmup ran');
        return { warmupMs, feeds };
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

  /** Version loads that failed (or were refused for memory) since start: the CloudWatch load-failure alarm's metric. */
  get loadFailureCount(): number {
    return this.failedLoads;
  }

  /** Models whose per-model canary is routed out on this instance now. */
  canariesRoutedOut(): number {
    return [...this.models.values()].filter((m) => m.canary?.routedOut !== undefined).length;
  }

  /** A model can be served when it has at least one READY version. */
  static servable(model: Model): boolean {
    return !model.error && model.versions.some((v) => v.state === 'READY');
  }

  /** True when every model (but those unloaded through the repository API) has at least one READY version. */
  get allReady(): boolean {
    if (this.loading) return false;
    for (const model of this.models.values()) if (!model.unloaded && !ModelManager.servable(model)) return false;
    return true;
  }

  /** Why the server is not ready (the models with no READY version), for logs and the ready endpoint. */
  notReadyReasons(): string[] {
    if (this.loading) return ['models are loading'];
    const reasons: string[] = [];
    for (const model of this.models.values()) {
      if (model.unloaded || ModelManager.servable(model)) continue;
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
   * The version a request addresses: the given one, or the serving one (newest READY), or with a
   * per-model canary its version for its weight of the requests. Unknown → 404, known but not
   * ready → 503 with the reason.
   */
  version(name: string, version?: string): ModelVersion {
    const model = this.model(name);
    if (version === undefined) {
      if (model.canary?.pick()) return model.canary.version;
      const ready = model.versions.find((v) => v.state === 'READY');
      if (ready) return ready;
      const why = model.error ?? model.versions.map((v) => `version ${v.version}: ${v.reason ?? v.state}`).join('; ');
      throw unavailable(`model '${name}' has no ready version (${why})`);
    }
    const v = /^[1-9]\d*$/.test(version) ? (model.versions.find((x) => x.version === Number(version)) ?? (model.canary?.version.version === Number(version) ? model.canary.version : undefined)) : undefined;
    if (!v) {
      const served = [...model.versions.map((x) => x.version), ...(model.canary ? [model.canary.version.version] : [])].sort((a, b) => b - a).join(', ') || 'none';
      throw notFound(`unknown version '${version}' of model '${name}'; versions served: ${served}`);
    }
    if (v.state !== 'READY') throw unavailable(`model '${name}' version ${v.version} is not ready: ${v.reason ?? v.state}`);
    return v;
  }

  /** An inference outcome, for the per-model canary's comparison (failures: 5xx and execution errors). */
  observe(v: ModelVersion, ok: boolean, latencyUs: number): void {
    const canary = this.models.get(v.model)?.canary;
    if (!canary) return;
    if (canary.version === v) canary.observe(true, ok, latencyUs);
    else canary.observe(false, ok, latencyUs);
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
    for (const m of this.models.values()) {
      for (const v of m.versions) n += v.queue?.pending ?? 0;
      n += m.canary?.version.queue?.pending ?? 0;
    }
    return n;
  }

  close(): void {
    this.dispatcher.close();
  }
}
