/**
 * `onnx-fleet serve` options: one table of definitions, read from the command line first and
 * the ONNX_FLEET_* environment (how instances and pods configure the runtime) second.
 * Every invalid value fails at start with the option, the value received and what is allowed.
 */
import os from 'node:os';
import path from 'node:path';
import { parsePostgresUrl, splitUrlList } from './capture/pg-url';
import { parseShardList } from './capture/shard-spec';
import { machineMemoryBytes } from './admission/machine-memory';
import { parseRepositoryLocation } from './models/repository-location';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_REPOSITORY_POLL_SECS, DRAIN_DELAY_SECONDS, ENV, EXIT_TIMEOUT_SECONDS, MODEL_CONTROL_MODES, ModelControlMode, SATURATION_METRIC } from './contract';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export { MODEL_CONTROL_MODES } from './contract';
export type { ModelControlMode } from './contract';

export interface RuntimeConfig {
  /** A directory, or s3://bucket[/prefix][?endpoint=…] mirrored into modelCacheDir. */
  modelRepository: string;
  /** Triton's model control mode: none (load at start only), poll (follow the repository), explicit (repository API). */
  modelControlMode: ModelControlMode;
  repositoryPollSecs: number;
  /** Where an S3 repository is mirrored. */
  modelCacheDir: string;
  /** Bearer tokens for the repository API (load/unload/index), when it needs its own. */
  adminTokensFile?: string;
  host: string;
  port: number;
  /** Worker threads running inference; each holds one onnxruntime session per model version. */
  workers: number;
  /** onnxruntime intra-op threads per session; workers × threads ≤ cores. */
  intraOpThreads: number;
  /** Nice increment of the inference worker threads over the main thread (event-loop priority). */
  workerNice: number;
  drainDelaySeconds: number;
  exitTimeoutSeconds: number;
  maxBodyBytes: number;
  /** Budget for request bytes in flight; beyond it requests get 503 before their body is read. */
  maxRequestBytesInFlight: number;
  logLevel: LogLevel;
  /** File holding bearer tokens, one per line. */
  authTokensFile?: string;
  /** Comma-separated bearer tokens (prefer the file: environments leak into process listings less, but logs more). */
  authTokens?: string;
  /** Data capture: comma-separated shards (file:///dir or s3://bucket[/prefix]?endpoint=…); default a directory under the journal. */
  captureShards?: string;
  /** Data capture journal (spool) directory; capture is on when this is set. */
  captureJournalDir?: string;
  captureJournalMaxBytes: number;
  captureFlushIntervalMs: number;
  /** Capture index writer endpoint: postgresql://… (a DNS name that follows failover, or a libpq multi-host list). */
  databaseWriterUrl?: string;
  /** Comma-separated replica URLs for capture queries (fallback: the writer). */
  databaseReaderUrls?: string;
  /** The instance's Auto Scaling group: set, the saturation signal is published to CloudWatch with it as dimension. */
  autoScalingGroupName?: string;
  cloudwatchNamespace: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Kind =
  | { type: 'string'; required?: boolean }
  | { type: 'int'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] };

interface OptionDef {
  key: keyof RuntimeConfig;
  flag: string;
  env: string;
  kind: Kind;
  help: string;
  default?: (partial: Partial<RuntimeConfig>) => string | number | undefined;
}

/** Worker threads' default nice increment (see runtime/workers/priority.ts and the README's Performance section). */
export const DEFAULT_WORKER_NICE = 0;

/** Largest request body accepted by default; ingresses in front of the runtime use the same limit. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Data capture journal bound by default. */
export const DEFAULT_CAPTURE_JOURNAL_MAX_BYTES = 1024 * 1024 * 1024;

/** A quarter of the memory this process may use (cgroup limit, else the machine's), and never below one largest body. */
export function defaultRequestBytesInFlight(maxBodyBytes: number, memoryBytes = machineMemoryBytes().bytes): number {
  return Math.max(maxBodyBytes, Math.floor(memoryBytes / 4));
}

const cores = (): number => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);

/** The defaults live here and nowhere else. */
export const OPTIONS: readonly OptionDef[] = [
  { key: 'modelRepository', flag: 'model-repository', env: ENV.modelRepository, kind: { type: 'string', required: true }, help: 'directory laid out as <model>/<version>/model.onnx, or s3://bucket[/prefix][?endpoint=…] (credentials: the AWS chain)' },
  { key: 'host', flag: 'host', env: ENV.host, kind: { type: 'string' }, help: 'address to listen on', default: () => DEFAULT_HOST },
  { key: 'port', flag: 'port', env: ENV.port, kind: { type: 'int', min: 0, max: 65535 }, help: 'port for the protocol, health and metrics (0 = any free port)', default: () => DEFAULT_PORT },
  { key: 'workers', flag: 'workers', env: ENV.workers, kind: { type: 'int', min: 1, max: 256 }, help: 'inference worker threads (default: one per core)', default: () => cores() },
  {
    key: 'intraOpThreads', flag: 'intra-op-threads', env: ENV.intraOpThreads, kind: { type: 'int', min: 1, max: 256 },
    help: 'onnxruntime intra-op threads per session (default: cores / workers)',
    default: (p) => Math.max(1, Math.floor(cores() / (p.workers ?? cores()))),
  },
  {
    key: 'workerNice', flag: 'worker-nice', env: ENV.workerNice, kind: { type: 'int', min: 0, max: 19 },
    help: 'nice increment of the inference worker threads over the event loop, so HTTP, health probes and shedding get a core at once while inference saturates them (0: same priority)',
    default: () => DEFAULT_WORKER_NICE,
  },
  { key: 'drainDelaySeconds', flag: 'drain-delay', env: ENV.drainDelaySeconds, kind: { type: 'int', min: 0, max: 3600 }, help: 'seconds to keep serving after SIGTERM while readiness answers 503', default: () => DRAIN_DELAY_SECONDS },
  { key: 'exitTimeoutSeconds', flag: 'exit-timeout', env: ENV.exitTimeoutSeconds, kind: { type: 'int', min: 0, max: 3600 }, help: 'seconds in-flight requests get to finish once the listener is closed', default: () => EXIT_TIMEOUT_SECONDS },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: ENV.maxBodyBytes, kind: { type: 'int', min: 1024, max: 2 ** 31 - 1 }, help: 'largest request body accepted (larger: 413)', default: () => DEFAULT_MAX_BODY_BYTES },
  {
    key: 'maxRequestBytesInFlight', flag: 'max-request-bytes-in-flight', env: ENV.maxRequestBytesInFlight, kind: { type: 'int', min: 1024, max: Number.MAX_SAFE_INTEGER },
    help: 'bytes of request bodies held at once; beyond, 503 + Retry-After before the body is read (default: a quarter of the memory limit, cgroup or machine)',
    default: (p) => defaultRequestBytesInFlight(p.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
  },
  { key: 'logLevel', flag: 'log-level', env: ENV.logLevel, kind: { type: 'enum', values: LOG_LEVELS }, help: 'pino log level', default: () => 'info' },
  { key: 'modelControlMode', flag: 'model-control-mode', env: ENV.modelControlMode, kind: { type: 'enum', values: MODEL_CONTROL_MODES }, help: 'none: load at start; poll: follow repository changes; explicit: POST /v2/repository/models/<m>/load|unload', default: () => 'none' },
  { key: 'repositoryPollSecs', flag: 'repository-poll-secs', env: ENV.repositoryPollSecs, kind: { type: 'int', min: 1, max: 86_400 }, help: 'poll mode: seconds between repository scans', default: () => DEFAULT_REPOSITORY_POLL_SECS },
  { key: 'modelCacheDir', flag: 'model-cache-dir', env: ENV.modelCacheDir, kind: { type: 'string' }, help: 'local copy of an S3 model repository', default: () => path.join(os.tmpdir(), 'onnx-fleet-model-cache') },
  { key: 'adminTokensFile', flag: 'admin-tokens-file', env: ENV.adminTokensFile, kind: { type: 'string' }, help: 'file of bearer tokens (one per line) for the repository API instead of the inference tokens' },
  { key: 'authTokensFile', flag: 'auth-tokens-file', env: ENV.authTokensFile, kind: { type: 'string' }, help: 'file of bearer tokens (one per line) required on inference and metadata routes' },
  { key: 'authTokens', flag: 'auth-tokens', env: ENV.authTokens, kind: { type: 'string' }, help: 'comma-separated bearer tokens (alternative to --auth-tokens-file)' },
  { key: 'captureJournalDir', flag: 'capture-journal-dir', env: ENV.captureJournalDir, kind: { type: 'string' }, help: 'data capture: journal directory (fsync\'d spool, replayed on start); turns capture on' },
  { key: 'captureShards', flag: 'capture-shards', env: ENV.captureShards, kind: { type: 'string' }, help: 'data capture: comma-separated shards, file:///dir or s3://bucket[/prefix][?endpoint=…&region=…] (default: <journal dir>/shards/local)' },
  { key: 'captureJournalMaxBytes', flag: 'capture-journal-max-bytes', env: ENV.captureJournalMaxBytes, kind: { type: 'int', min: 1 << 20, max: Number.MAX_SAFE_INTEGER }, help: 'data capture: journal bound; beyond it records are dropped (counted), never requests', default: () => DEFAULT_CAPTURE_JOURNAL_MAX_BYTES },
  { key: 'captureFlushIntervalMs', flag: 'capture-flush-interval-ms', env: ENV.captureFlushIntervalMs, kind: { type: 'int', min: 10, max: 60_000 }, help: 'data capture: group commit (fsync) and flush interval in milliseconds', default: () => 200 },
  { key: 'databaseWriterUrl', flag: 'database-writer-url', env: ENV.databaseWriterUrl, kind: { type: 'string' }, help: 'data capture index: primary endpoint, postgresql://user:pw@host:port[,host:port…]/db' },
  { key: 'databaseReaderUrls', flag: 'database-reader-urls', env: ENV.databaseReaderUrls, kind: { type: 'string' }, help: 'data capture index: comma-separated replica URLs for queries (fallback: the writer)' },
  { key: 'autoScalingGroupName', flag: 'autoscaling-group-name', env: ENV.autoScalingGroupName, kind: { type: 'string' }, help: `publish the saturation signal to CloudWatch every ${SATURATION_METRIC.periodSeconds} s with this AutoScalingGroupName dimension (credentials and region: the AWS SDK's default chain)` },
  { key: 'cloudwatchNamespace', flag: 'cloudwatch-namespace', env: ENV.cloudwatchNamespace, kind: { type: 'string' }, help: 'CloudWatch namespace of the saturation signal', default: () => SATURATION_METRIC.namespace },
];

function describe(kind: Kind): string {
  switch (kind.type) {
    case 'int':
      return `an integer from ${kind.min} to ${kind.max}`;
    case 'enum':
      return `one of ${kind.values.join(', ')}`;
    case 'string':
      return 'a non-empty string';
  }
}

function parseValue(def: OptionDef, raw: string, source: string): string | number {
  const fail = (): never => {
    throw new ConfigError(`${source}: got ${JSON.stringify(raw)}, expected ${describe(def.kind)}`);
  };
  switch (def.kind.type) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) fail();
      const n = Number(raw.trim());
      if (!Number.isSafeInteger(n) || n < def.kind.min || n > def.kind.max) fail();
      return n;
    }
    case 'enum':
      if (!def.kind.values.includes(raw)) fail();
      return raw;
    case 'string':
      if (raw.trim() === '') fail();
      return raw;
  }
}

/** Splits `--name value` / `--name=value` arguments; unknown flags are errors that list the known ones. */
function parseFlags(argv: readonly string[], defs: readonly OptionDef[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}; options are written --name value`);
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const def = defs.find((d) => d.flag === name);
    if (!def) {
      throw new ConfigError(`unknown option --${name}; known options: ${defs.map((d) => `--${d.flag}`).join(', ')}`);
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
    if (value === undefined) throw new ConfigError(`--${name}: missing value, expected ${describe(def.kind)}`);
    out.set(name, value);
  }
  return out;
}

/** Reads the serve options from flags, then environment, then defaults. */
export function loadRuntimeConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const flags = parseFlags(argv, OPTIONS);
  const partial: Partial<Record<keyof RuntimeConfig, string | number>> = {};
  for (const def of OPTIONS) {
    const flagValue = flags.get(def.flag);
    const envValue = env[def.env];
    let value: string | number | undefined;
    if (flagValue !== undefined) value = parseValue(def, flagValue, `--${def.flag}`);
    else if (envValue !== undefined && envValue !== '') value = parseValue(def, envValue, def.env);
    else value = def.default?.(partial as Partial<RuntimeConfig>);
    if (value === undefined && def.kind.type === 'string' && def.kind.required) {
      throw new ConfigError(`--${def.flag} is required (or set ${def.env}): ${def.help}`);
    }
    if (value !== undefined) partial[def.key] = value;
  }
  const config = partial as unknown as RuntimeConfig;
  try {
    const location = parseRepositoryLocation(config.modelRepository, env);
    config.modelRepository = location.kind === 'dir' ? location.dir : config.modelRepository.trim();
  } catch (err) {
    throw new ConfigError(`--model-repository: ${(err as Error).message}`);
  }
  config.modelCacheDir = path.resolve(config.modelCacheDir);
  const available = cores();
  if (config.workers * config.intraOpThreads > available) {
    throw new ConfigError(
      `--workers ${config.workers} × --intra-op-threads ${config.intraOpThreads} = ${config.workers * config.intraOpThreads} threads, ` +
        `more than the ${available} cores of this machine; lower one of them so the product is at most ${available}`,
    );
  }
  if (config.maxRequestBytesInFlight < config.maxBodyBytes) {
    throw new ConfigError(
      `--max-request-bytes-in-flight ${config.maxRequestBytesInFlight} is below --max-body-bytes ${config.maxBodyBytes}: a body of the largest allowed size could never be admitted; raise it to at least ${config.maxBodyBytes}`,
    );
  }
  validateCapture(config);
  return config;
}

/** Capture options: shards and database need a journal (nothing accepted may be lost), and their URLs must parse. */
function validateCapture(config: RuntimeConfig): void {
  if (!config.captureJournalDir) {
    const given = (['captureShards', 'databaseWriterUrl', 'databaseReaderUrls'] as const).find((k) => config[k] !== undefined);
    if (given) {
      const def = OPTIONS.find((d) => d.key === given)!;
      throw new ConfigError(`--${def.flag} needs --capture-journal-dir (or ${ENV.captureJournalDir}): captured records are journaled there before they are written`);
    }
    return;
  }
  config.captureJournalDir = path.resolve(config.captureJournalDir);
  try {
    if (config.captureShards !== undefined) parseShardList(config.captureShards);
  } catch (err) {
    throw new ConfigError(`--capture-shards: ${(err as Error).message}`);
  }
  for (const [flag, value] of [['database-writer-url', config.databaseWriterUrl], ['database-reader-urls', config.databaseReaderUrls]] as const) {
    if (value === undefined) continue;
    try {
      for (const url of splitUrlList(value)) parsePostgresUrl(url);
    } catch (err) {
      throw new ConfigError(`--${flag}: ${(err as Error).message}`);
    }
  }
}

export function usage(): string {
  const lines = OPTIONS.map((d) => `  --${d.flag.padEnd(18)} ${d.help} [${d.env}]`);
  return ['Usage: onnx-fleet serve --model-repository <dir> [options]', '', 'Options (each also read from the environment variable in brackets):', ...lines].join('\n');
}
