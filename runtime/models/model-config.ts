/**
 * A model's optional `<repo>/<model>/config.json`: Triton's model configuration written as JSON
 * (snake_case keys, same meanings). Unknown keys and wrong types are errors that name the key.
 */
export type VersionPolicy = { latest: { num_versions: number } } | { all: Record<string, never> } | { specific: { versions: number[] } };

export interface QueuePolicy {
  /** 0 = unbounded. */
  maxQueueSize: number;
  /** 0 = no timeout. */
  defaultTimeoutMicroseconds: number;
  allowTimeoutOverride: boolean;
}

export interface DynamicBatchingConfig {
  maxQueueDelayMicroseconds: number;
  preferredBatchSizes: number[];
  queuePolicy: QueuePolicy;
}

export interface ModelConfig {
  /** 0 = the model is not batched by the runtime (its first dimension is not treated as a batch). */
  maxBatchSize: number;
  versionPolicy: VersionPolicy;
  /** false = no warmup; true = automatic (runtime/models/warmup.ts); or explicit inputs, which must run. */
  warmup: boolean | WarmupConfig;
  /** onnxruntime intra-op threads for this model (default: the server's setting). */
  intraOpThreads?: number;
  /**
   * Triton's `instance_group`: how many model instances (sessions, one per worker) load this
   * model — the sum of the groups' `count`. Absent: one in every worker (what serves small
   * models best); a large model can run as one instance with several intra_op_threads.
   */
  instanceCount?: number;
  /**
   * `parameters.execution_thread` (Triton's backend parameters map, string_value): where
   * executions run. auto (default): on the main thread when the measured execution is cheaper
   * than a thread hop, else on the workers; main; worker.
   */
  executionThread: ExecutionThreadSetting;
  /** Requests waiting for a worker are bounded even without dynamic batching. */
  queuePolicy: QueuePolicy;
  dynamicBatching?: DynamicBatchingConfig;
  /** Free-form labels for classifier outputs, echoed in model metadata parameters. */
  labels?: string[];
  /** `data_capture`: what the runtime captures of this model's requests (needs --capture-journal-dir). */
  dataCapture?: DataCaptureConfig;
}

export type ExecutionThreadSetting = 'auto' | 'main' | 'worker';
export const EXECUTION_THREAD_SETTINGS: readonly ExecutionThreadSetting[] = ['auto', 'main', 'worker'];

/** Explicit warmup: per input its shape and, optionally, a sample data file in `<model>/warmup/`. */
export interface WarmupConfig {
  /** `dataType` as written (Triton's `TYPE_FP32` or the protocol's `FP32`), checked against the model at load. */
  inputs: Record<string, { dims: number[]; dataType?: string; dataFile?: string }>;
}

export interface DataCaptureConfig {
  enabled: boolean;
  /** 0–100, fractions allowed. */
  samplingPercentage: number;
  captureRequest: boolean;
  captureResponse: boolean;
}

export const DEFAULT_QUEUE_POLICY: QueuePolicy = { maxQueueSize: 1024, defaultTimeoutMicroseconds: 0, allowTimeoutOverride: true };

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  maxBatchSize: 0,
  versionPolicy: { latest: { num_versions: 1 } },
  warmup: true,
  executionThread: 'auto',
  queuePolicy: DEFAULT_QUEUE_POLICY,
};

export class ModelConfigError extends Error {}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function int(where: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ModelConfigError(`${where}: got ${JSON.stringify(v)}, expected an integer from ${min} to ${max}`);
  }
  return v;
}

function onlyKeys(where: string, obj: Json, allowed: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ModelConfigError(`${where}: unknown key "${k}"; allowed keys: ${allowed.join(', ')}`);
  }
}

function parseVersionPolicy(v: unknown): VersionPolicy {
  const where = 'version_policy';
  const allowed = 'expected {"latest":{"num_versions":N}}, {"all":{}} or {"specific":{"versions":[...]}}';
  if (!isObject(v) || Object.keys(v).length !== 1) throw new ModelConfigError(`${where}: got ${JSON.stringify(v)}, ${allowed}`);
  if ('latest' in v) {
    const latest = v.latest;
    if (!isObject(latest)) throw new ModelConfigError(`${where}.latest: got ${JSON.stringify(latest)}, ${allowed}`);
    return { latest: { num_versions: int(`${where}.latest.num_versions`, latest.num_versions, 1) } };
  }
  if ('all' in v) return { all: {} };
  if ('specific' in v) {
    const specific = v.specific;
    if (!isObject(specific) || !Array.isArray(specific.versions) || specific.versions.length === 0) {
      throw new ModelConfigError(`${where}.specific.versions: got ${JSON.stringify(isObject(specific) ? specific.versions : specific)}, expected a non-empty array of version numbers`);
    }
    return { specific: { versions: specific.versions.map((x, i) => int(`${where}.specific.versions[${i}]`, x, 1)) } };
  }
  throw new ModelConfigError(`${where}: got ${JSON.stringify(v)}, ${allowed}`);
}

function parseQueuePolicy(where: string, v: unknown): QueuePolicy {
  if (v === undefined) return DEFAULT_QUEUE_POLICY;
  if (!isObject(v)) throw new ModelConfigError(`${where}: got ${JSON.stringify(v)}, expected an object`);
  onlyKeys(where, v, ['max_queue_size', 'default_timeout_microseconds', 'allow_timeout_override', 'timeout_action']);
  if (v.timeout_action !== undefined && v.timeout_action !== 'REJECT') {
    throw new ModelConfigError(`${where}.timeout_action: got ${JSON.stringify(v.timeout_action)}, expected "REJECT" (the only action supported)`);
  }
  if (v.allow_timeout_override !== undefined && typeof v.allow_timeout_override !== 'boolean') {
    throw new ModelConfigError(`${where}.allow_timeout_override: got ${JSON.stringify(v.allow_timeout_override)}, expected true or false`);
  }
  return {
    maxQueueSize: v.max_queue_size === undefined ? DEFAULT_QUEUE_POLICY.maxQueueSize : int(`${where}.max_queue_size`, v.max_queue_size, 0),
    defaultTimeoutMicroseconds: v.default_timeout_microseconds === undefined ? 0 : int(`${where}.default_timeout_microseconds`, v.default_timeout_microseconds, 0),
    allowTimeoutOverride: v.allow_timeout_override === undefined ? true : (v.allow_timeout_override as boolean),
  };
}

function parseDynamicBatching(v: unknown, maxBatchSize: number): DynamicBatchingConfig {
  const where = 'dynamic_batching';
  if (!isObject(v)) throw new ModelConfigError(`${where}: got ${JSON.stringify(v)}, expected an object`);
  onlyKeys(where, v, ['max_queue_delay_microseconds', 'preferred_batch_size', 'default_queue_policy', 'preserve_ordering']);
  if (maxBatchSize < 1) throw new ModelConfigError(`${where}: needs max_batch_size ≥ 1 (got ${maxBatchSize}); set max_batch_size or remove dynamic_batching`);
  const preferred = v.preferred_batch_size === undefined ? [] : v.preferred_batch_size;
  if (!Array.isArray(preferred)) throw new ModelConfigError(`${where}.preferred_batch_size: got ${JSON.stringify(preferred)}, expected an array of integers`);
  return {
    maxQueueDelayMicroseconds: v.max_queue_delay_microseconds === undefined ? 0 : int(`${where}.max_queue_delay_microseconds`, v.max_queue_delay_microseconds, 0, 10_000_000),
    preferredBatchSizes: preferred.map((x, i) => int(`${where}.preferred_batch_size[${i}]`, x, 1, maxBatchSize)).sort((a, b) => a - b),
    queuePolicy: parseQueuePolicy(`${where}.default_queue_policy`, v.default_queue_policy),
  };
}

const WARMUP_FORMS = 'expected true, false, {"shape": {"<input>": [dims...]}} or {"inputs": {"<input>": {"dims": [...], "input_data_file": "<file in warmup/>"}}}';

/**
 * `warmup`: true (automatic), false, `{"shape": {...}}` (zeros of these shapes) and/or Triton's
 * `model_warmup` inputs: `{"inputs": {"x": {"dims": [...], "zero_data": true | "input_data_file": "x.bin"}}}`.
 */
/** `[{"count": N, "kind": "KIND_CPU"}, ...]` → the total count of instances. */
function parseInstanceGroup(v: unknown): number {
  const where = 'instance_group';
  if (!Array.isArray(v) || v.length === 0) throw new ModelConfigError(`${where}: got ${JSON.stringify(v)}, expected a non-empty array like [{"count": 1, "kind": "KIND_CPU"}]`);
  let total = 0;
  v.forEach((g, i) => {
    if (!isObject(g)) throw new ModelConfigError(`${where}[${i}]: got ${JSON.stringify(g)}, expected {"count": N, "kind": "KIND_CPU"}`);
    onlyKeys(`${where}[${i}]`, g, ['name', 'count', 'kind']);
    if (g.kind !== undefined && g.kind !== 'KIND_CPU' && g.kind !== 'KIND_AUTO') {
      throw new ModelConfigError(`${where}[${i}].kind: got ${JSON.stringify(g.kind)}, expected "KIND_CPU" or "KIND_AUTO" (this runtime runs models on CPU)`);
    }
    total += g.count === undefined ? 1 : int(`${where}[${i}].count`, g.count, 1, 256);
  });
  return total;
}

/**
 * Triton's `parameters` map (`{"<key>": {"string_value": "<value>"}}`, the backend's settings).
 * Known key: execution_thread.
 */
function parseParameters(v: unknown): { executionThread: ExecutionThreadSetting } {
  const where = 'parameters';
  if (!isObject(v)) throw new ModelConfigError(`${where}: got ${JSON.stringify(v)}, expected {"execution_thread": {"string_value": "auto"}}`);
  onlyKeys(where, v, ['execution_thread']);
  let executionThread: ExecutionThreadSetting = 'auto';
  if (v.execution_thread !== undefined) {
    const p = v.execution_thread;
    const value = isObject(p) ? p.string_value : undefined;
    if (!isObject(p) || Object.keys(p).some((k) => k !== 'string_value') || !EXECUTION_THREAD_SETTINGS.includes(value as ExecutionThreadSetting)) {
      throw new ModelConfigError(`${where}.execution_thread: got ${JSON.stringify(p)}, expected {"string_value": "auto" | "main" | "worker"}`);
    }
    executionThread = value as ExecutionThreadSetting;
  }
  return { executionThread };
}

function parseWarmup(v: unknown): ModelConfig['warmup'] {
  if (v === undefined) return true;
  if (typeof v === 'boolean') return v;
  if (!isObject(v) || (v.shape === undefined && v.inputs === undefined)) throw new ModelConfigError(`warmup: got ${JSON.stringify(v)}, ${WARMUP_FORMS}`);
  onlyKeys('warmup', v, ['shape', 'inputs']);
  const inputs: WarmupConfig['inputs'] = {};
  const dimsOf = (where: string, dims: unknown) => {
    if (!Array.isArray(dims)) throw new ModelConfigError(`${where}: got ${JSON.stringify(dims)}, expected an array of dimensions`);
    return dims.map((d, i) => int(`${where}[${i}]`, d, 0));
  };
  if (v.shape !== undefined) {
    if (!isObject(v.shape)) throw new ModelConfigError(`warmup.shape: got ${JSON.stringify(v.shape)}, expected {"<input>": [dims...]}`);
    for (const [name, dims] of Object.entries(v.shape)) inputs[name] = { dims: dimsOf(`warmup.shape.${name}`, dims) };
  }
  if (v.inputs !== undefined) {
    if (!isObject(v.inputs)) throw new ModelConfigError(`warmup.inputs: got ${JSON.stringify(v.inputs)}, expected {"<input>": {"dims": [...], ...}}`);
    for (const [name, spec] of Object.entries(v.inputs)) {
      const where = `warmup.inputs.${name}`;
      if (!isObject(spec)) throw new ModelConfigError(`${where}: got ${JSON.stringify(spec)}, expected {"dims": [...], "zero_data": true} or {"dims": [...], "input_data_file": "<file>"}`);
      onlyKeys(where, spec, ['dims', 'data_type', 'zero_data', 'input_data_file']);
      const file = spec.input_data_file;
      if (file !== undefined && (typeof file !== 'string' || file === '' || file.split(/[\\/]/).includes('..'))) {
        throw new ModelConfigError(`${where}.input_data_file: got ${JSON.stringify(file)}, expected a file name inside the model's warmup/ directory`);
      }
      if (file !== undefined && spec.zero_data !== undefined) throw new ModelConfigError(`${where}: give zero_data or input_data_file, not both`);
      if (spec.data_type !== undefined && typeof spec.data_type !== 'string') throw new ModelConfigError(`${where}.data_type: got ${JSON.stringify(spec.data_type)}, expected a datatype name such as "TYPE_FP32"`);
      inputs[name] = {
        dims: dimsOf(`${where}.dims`, spec.dims),
        ...(spec.data_type !== undefined ? { dataType: spec.data_type as string } : {}),
        ...(file !== undefined ? { dataFile: file as string } : {}),
      };
    }
  }
  return { inputs };
}

/** `{"enabled": true, "sampling_percentage": 0-100, "capture": ["request", "response"]}`; omitted keys: on, 100 %, both. */
function parseDataCapture(v: unknown): DataCaptureConfig {
  const where = 'data_capture';
  if (!isObject(v)) throw new ModelConfigError(`${where}: got ${JSON.stringify(v)}, expected {"enabled": true, "sampling_percentage": 0-100, "capture": ["request", "response"]}`);
  onlyKeys(where, v, ['enabled', 'sampling_percentage', 'capture']);
  if (v.enabled !== undefined && typeof v.enabled !== 'boolean') throw new ModelConfigError(`${where}.enabled: got ${JSON.stringify(v.enabled)}, expected true or false`);
  const pct = v.sampling_percentage ?? 100;
  if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0 || pct > 100) {
    throw new ModelConfigError(`${where}.sampling_percentage: got ${JSON.stringify(v.sampling_percentage)}, expected a number from 0 to 100`);
  }
  const capture = v.capture ?? ['request', 'response'];
  if (!Array.isArray(capture) || capture.length === 0 || capture.some((c) => c !== 'request' && c !== 'response')) {
    throw new ModelConfigError(`${where}.capture: got ${JSON.stringify(v.capture)}, expected a non-empty array of "request" and/or "response"`);
  }
  return { enabled: v.enabled !== false, samplingPercentage: pct, captureRequest: capture.includes('request'), captureResponse: capture.includes('response') };
}

/** Parses config.json text. Throws ModelConfigError naming the key at fault. */
export function parseModelConfig(text: string): ModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelConfigError(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw new ModelConfigError('expected a JSON object');
  onlyKeys('config.json', raw, ['name', 'platform', 'backend', 'max_batch_size', 'version_policy', 'warmup', 'intra_op_threads', 'instance_group', 'dynamic_batching', 'queue_policy', 'labels', 'data_capture', 'parameters']);
  const maxBatchSize = raw.max_batch_size === undefined ? 0 : int('max_batch_size', raw.max_batch_size, 0, 1 << 20);
  const labels = raw.labels;
  if (labels !== undefined && (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string'))) {
    throw new ModelConfigError(`labels: got ${JSON.stringify(labels)}, expected an array of strings`);
  }
  const config: ModelConfig = {
    maxBatchSize,
    versionPolicy: raw.version_policy === undefined ? DEFAULT_MODEL_CONFIG.versionPolicy : parseVersionPolicy(raw.version_policy),
    warmup: parseWarmup(raw.warmup),
    intraOpThreads: raw.intra_op_threads === undefined ? undefined : int('intra_op_threads', raw.intra_op_threads, 1, 256),
    instanceCount: raw.instance_group === undefined ? undefined : parseInstanceGroup(raw.instance_group),
    executionThread: raw.parameters === undefined ? 'auto' : parseParameters(raw.parameters).executionThread,
    queuePolicy: parseQueuePolicy('queue_policy', raw.queue_policy),
    labels: labels as string[] | undefined,
  };
  if (config.executionThread === 'main' && config.instanceCount !== undefined && config.instanceCount > 1) {
    throw new ModelConfigError(`parameters.execution_thread "main" runs one instance, on the main thread, but instance_group asks for ${config.instanceCount}; use "worker" or a count of 1`);
  }
  if (raw.data_capture !== undefined) config.dataCapture = parseDataCapture(raw.data_capture);
  if (raw.dynamic_batching !== undefined) {
    config.dynamicBatching = parseDynamicBatching(raw.dynamic_batching, maxBatchSize);
    config.queuePolicy = config.dynamicBatching.queuePolicy;
  }
  return config;
}

/** Which of the versions found on disk the policy serves. */
export function selectVersions(policy: VersionPolicy, available: number[]): number[] {
  const sorted = [...available].sort((a, b) => b - a);
  if ('latest' in policy) return sorted.slice(0, policy.latest.num_versions);
  if ('all' in policy) return sorted;
  return sorted.filter((v) => policy.specific.versions.includes(v));
}
