/**
 * The runtime ↔ infrastructure contract.
 *
 * Everything a load balancer, an Auto Scaling group, a Kubernetes probe, a systemd unit or a
 * test harness needs to know about the runtime lives here, and only here. The runtime reads
 * these values; infra/ imports them. This module has no dependencies so that the Pulumi
 * program can import it without pulling in the server.
 */

/** Port the runtime listens on unless told otherwise (HTTP: protocol, health and metrics). */
export const DEFAULT_PORT = 8080;
/** Address the runtime binds to by default. Instances override it with 0.0.0.0. */
export const DEFAULT_HOST = '127.0.0.1';

/** Liveness: the process and its event loop answer. Never depends on models or workers. */
export const HEALTH_LIVE_PATH = '/v2/health/live';
/** Readiness: every model has at least one READY version, and the server is not draining. */
export const HEALTH_READY_PATH = '/v2/health/ready';
/** Prometheus metrics. */
export const METRICS_PATH = '/metrics';
/** Status code a health endpoint returns when the answer is "yes". Anything else means "no". */
export const HEALTH_OK_STATUS = 200;
/** Status code of a "not ready" / "draining" answer (Triton: UNAVAILABLE). */
export const HEALTH_UNAVAILABLE_STATUS = 503;

/**
 * Active health checking as every load balancer in front of the runtime must do it (ALB target
 * group, HAProxy in the fleet tests, Kubernetes readiness probe).
 */
export const HEALTH_CHECK = {
  path: HEALTH_READY_PATH,
  /** Seconds between checks. ALB allows 5–300. */
  intervalSeconds: 5,
  /** Seconds before a check counts as failed. Must be < interval. The ready path answers in microseconds. */
  timeoutSeconds: 3,
  /** Consecutive successes before a target is put in rotation. */
  healthyThreshold: 2,
  /** Consecutive failures before a target is taken out of rotation. */
  unhealthyThreshold: 2,
  /** HTTP codes that mean healthy. */
  successCodes: '200',
} as const;

/**
 * The longest a load balancer can take to notice that readiness turned 503: it may have just
 * passed a check, then needs `unhealthyThreshold` failed checks, the last of which may time out.
 */
export const HEALTH_DETECTION_SECONDS =
  HEALTH_CHECK.intervalSeconds * HEALTH_CHECK.unhealthyThreshold + HEALTH_CHECK.timeoutSeconds;

/**
 * After SIGTERM the runtime keeps serving (while readiness answers 503) for this long, so the load
 * balancer stops sending before the listener closes. Must cover HEALTH_DETECTION_SECONDS.
 */
export const DRAIN_DELAY_SECONDS = 15;

/** After the listener closes, in-flight requests get at most this long to finish (Triton: --exit-timeout-secs). */
export const EXIT_TIMEOUT_SECONDS = 30;

/**
 * The whole stop sequence: what a supervisor must wait before SIGKILL (systemd TimeoutStopSec,
 * Kubernetes terminationGracePeriodSeconds), with a margin for flushing capture buffers.
 */
export const STOP_TIMEOUT_SECONDS = DRAIN_DELAY_SECONDS + EXIT_TIMEOUT_SECONDS + 5;

/**
 * Budget for a fresh instance to load and warm its models before anyone may judge it unhealthy:
 * the ASG health check grace period, the default instance warmup, a Kubernetes startup probe.
 */
export const STARTUP_BUDGET_SECONDS = 300;

/** Load balancers must keep a target's connections open at least this long after deregistering it. */
export const MIN_DEREGISTRATION_DELAY_SECONDS = DRAIN_DELAY_SECONDS;

/**
 * Seconds an idle keep-alive connection stays open at the load balancer (ALB `idle_timeout`,
 * HAProxy `timeout http-keep-alive`). Clients of the load balancer must drop idle connections
 * sooner, or a request written as the load balancer closes the socket fails with ECONNRESET.
 */
export const LOAD_BALANCER_IDLE_TIMEOUT_SECONDS = 60;

/**
 * Seconds the runtime keeps an idle keep-alive connection open. Longer than the load balancer's
 * idle timeout, so the load balancer (which can retry) always closes first, never the runtime.
 */
export const KEEP_ALIVE_TIMEOUT_SECONDS = LOAD_BALANCER_IDLE_TIMEOUT_SECONDS + 5;

/**
 * The saturation signal the platform scales on (runtime/scheduling/saturation.ts): published to
 * CloudWatch every 10 s as high-resolution metrics (the shortest period target tracking reads), in
 * this namespace, with the instance's Auto Scaling group as dimension; the same names on /metrics.
 */
export const SATURATION_METRIC = {
  namespace: 'ONNXFleet',
  /** (in-flight + queued) / workers, per instance; the group's Average is what target tracking follows. */
  saturation: 'onnx_fleet_saturation',
  /** Queue wait p90 per model, µs (Triton's summary name with its quantile). */
  queueWait: 'nv_inference_queue_summary_us',
  /** Requests queued or executing per model (Triton's name). */
  pending: 'nv_inference_pending_request_count',
  groupDimension: 'AutoScalingGroupName',
  /** How often each instance publishes: target tracking reads the signal with this period (10 s, the shortest it supports). */
  periodSeconds: 10,
  /** PutMetricData StorageResolution: 1 = high resolution (kept per second), what a period under 60 s needs. */
  storageResolutionSeconds: 1,
} as const;

/**
 * Model release health, published with the saturation signal (same namespace, period and group
 * dimension) for the stack's alarms: version loads that failed on the instance during the period
 * (the versions serving kept serving), and per-model canaries routed out on it now.
 */
export const MODEL_RELEASE_METRIC = {
  loadFailures: 'onnx_fleet_model_load_failures',
  canariesRoutedOut: 'onnx_fleet_model_canaries_routed_out',
} as const;

/**
 * The exact dimension names each metric the runtime publishes to CloudWatch carries. CloudWatch
 * treats every combination of dimensions as a metric of its own, so an alarm or a scaling policy
 * must name exactly these (AWS rule cw-custom-metric-dimensions).
 */
export const CLOUDWATCH_DIMENSIONS: Record<string, readonly string[]> = {
  [SATURATION_METRIC.saturation]: [SATURATION_METRIC.groupDimension],
  [SATURATION_METRIC.pending]: [SATURATION_METRIC.groupDimension, 'model', 'version'],
  [SATURATION_METRIC.queueWait]: [SATURATION_METRIC.groupDimension, 'model', 'version', 'quantile'],
  [MODEL_RELEASE_METRIC.loadFailures]: [SATURATION_METRIC.groupDimension],
  [MODEL_RELEASE_METRIC.canariesRoutedOut]: [SATURATION_METRIC.groupDimension],
};

/** The window queue-wait quantiles cover: one publishing period. */
export const QUEUE_WAIT_WINDOW_MS = SATURATION_METRIC.periodSeconds * 1000;

/**
 * Triton's model control modes (`--model-control-mode`): none loads at start only, poll follows the
 * repository, explicit opens the repository API's load and unload. The platform sets one per stack.
 */
export const MODEL_CONTROL_MODES = ['none', 'poll', 'explicit'] as const;
export type ModelControlMode = (typeof MODEL_CONTROL_MODES)[number];
/** Poll mode's default seconds between repository scans (`--repository-poll-secs`). */
export const DEFAULT_REPOSITORY_POLL_SECS = 15;

/** Every environment variable the runtime reads. Instances and pods configure the runtime only through these. */
export const ENV = {
  modelRepository: 'ONNX_FLEET_MODEL_REPOSITORY',
  modelControlMode: 'ONNX_FLEET_MODEL_CONTROL_MODE',
  repositoryPollSecs: 'ONNX_FLEET_REPOSITORY_POLL_SECS',
  modelCacheDir: 'ONNX_FLEET_MODEL_CACHE_DIR',
  adminTokensFile: 'ONNX_FLEET_ADMIN_TOKENS_FILE',
  host: 'ONNX_FLEET_HOST',
  port: 'ONNX_FLEET_PORT',
  drainDelaySeconds: 'ONNX_FLEET_DRAIN_DELAY_SECONDS',
  exitTimeoutSeconds: 'ONNX_FLEET_EXIT_TIMEOUT_SECONDS',
  workers: 'ONNX_FLEET_WORKERS',
  intraOpThreads: 'ONNX_FLEET_INTRA_OP_THREADS',
  workerNice: 'ONNX_FLEET_WORKER_NICE',
  maxBodyBytes: 'ONNX_FLEET_MAX_BODY_BYTES',
  maxRequestBytesInFlight: 'ONNX_FLEET_MAX_REQUEST_BYTES_IN_FLIGHT',
  logLevel: 'ONNX_FLEET_LOG_LEVEL',
  authTokensFile: 'ONNX_FLEET_AUTH_TOKENS_FILE',
  authTokens: 'ONNX_FLEET_AUTH_TOKENS',
  captureShards: 'ONNX_FLEET_CAPTURE_SHARDS',
  captureJournalDir: 'ONNX_FLEET_CAPTURE_JOURNAL_DIR',
  databaseWriterUrl: 'ONNX_FLEET_DATABASE_WRITER_URL',
  databaseReaderUrls: 'ONNX_FLEET_DATABASE_READER_URLS',
  captureJournalMaxBytes: 'ONNX_FLEET_CAPTURE_JOURNAL_MAX_BYTES',
  captureFlushIntervalMs: 'ONNX_FLEET_CAPTURE_FLUSH_INTERVAL_MS',
  autoScalingGroupName: 'ONNX_FLEET_AUTOSCALING_GROUP_NAME',
  cloudwatchNamespace: 'ONNX_FLEET_CLOUDWATCH_NAMESPACE',
} as const;

export type EnvKey = keyof typeof ENV;
