/**
 * Prometheus metrics with Triton's names where they apply, so existing Triton dashboards and
 * alerts work unchanged. One registry per runtime instance (no prom-client globals).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { QUEUE_WAIT_WINDOW_MS } from './contract';

export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

const MODEL_LABELS = ['model', 'version'] as const;

/**
 * One version's per-request success series, summed in plain numbers and added to the counters when
 * they are read (`collect`): five labelled prom-client incs per request, each hashing its labels,
 * cost a µs-scale model a measurable share of its throughput (issue 15). Scrapes see the same values.
 */
export interface SuccessTally {
  count: number;
  requestUs: number;
  queueUs: number;
  inputUs: number;
  outputUs: number;
}

/** One series of a counter: its increments (or amounts) summed in a plain number and added when read (as SuccessTally). */
export interface CountTally {
  n: number;
}

export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly tallies = new Map<string, { labels: { model: string; version: string }; tally: SuccessTally }>();
  private readonly counts = new Map<string, { counter: Counter<string>; labels: Record<string, string>; tally: CountTally }>();
  private readonly flushTallies = () => this.flush();

  readonly requestSuccess = new Counter({ name: 'nv_inference_request_success', help: 'Number of successful inference requests, all batch sizes', labelNames: MODEL_LABELS, registers: [this.registry], collect: this.flushTallies });
  readonly requestFailure = new Counter({ name: 'nv_inference_request_failure', help: 'Number of failed inference requests, all batch sizes', labelNames: [...MODEL_LABELS, 'reason'], registers: [this.registry], collect: this.flushTallies });
  readonly inferenceCount = new Counter({ name: 'nv_inference_count', help: 'Number of inferences performed (a batch of n counts n)', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly execCount = new Counter({ name: 'nv_inference_exec_count', help: 'Number of model executions performed (a batch counts once)', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly pending = new Gauge({ name: 'nv_inference_pending_request_count', help: 'Instantaneous number of requests queued or executing', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly requestDuration = new Counter({ name: 'nv_inference_request_duration_us', help: 'Cumulative inference request duration in microseconds (queue + compute + codec)', labelNames: MODEL_LABELS, registers: [this.registry], collect: this.flushTallies });
  readonly queueDuration = new Counter({ name: 'nv_inference_queue_duration_us', help: 'Cumulative time requests spent waiting in the queue in microseconds', labelNames: MODEL_LABELS, registers: [this.registry], collect: this.flushTallies });
  readonly computeInputDuration = new Counter({ name: 'nv_inference_compute_input_duration_us', help: 'Cumulative time spent preparing inputs (decode, validate, batch) in microseconds', labelNames: MODEL_LABELS, registers: [this.registry], collect: this.flushTallies });
  readonly computeInferDuration = new Counter({ name: 'nv_inference_compute_infer_duration_us', help: 'Cumulative time spent inside onnxruntime in microseconds', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly computeOutputDuration = new Counter({ name: 'nv_inference_compute_output_duration_us', help: 'Cumulative time spent encoding outputs in microseconds', labelNames: MODEL_LABELS, registers: [this.registry], collect: this.flushTallies });
  readonly modelReady = new Gauge({ name: 'onnx_fleet_model_ready', help: '1 when the model version is READY (loaded, and its explicit warmup passed), else 0', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly modelWarmed = new Gauge({ name: 'onnx_fleet_model_warmed', help: '1 when a warmup inference ran on the model version in every worker, else 0 (served, but its first requests may be slower)', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly serverReady = new Gauge({ name: 'onnx_fleet_ready', help: '1 when the server reports ready to its load balancer', registers: [this.registry] });
  readonly shed = new Counter({ name: 'onnx_fleet_requests_shed_total', help: 'Requests rejected with 503 before running, by cause: queue_full, standing_queue (the oldest shed when the queue stood full), timeout, queue_wait (estimated wait beyond the timeout), request_bytes (budget of request bytes in flight)', labelNames: [...MODEL_LABELS, 'cause'], registers: [this.registry], collect: this.flushTallies });
  // The saturation signal the platform scales on (runtime/scheduling/saturation.ts), the same on AWS and Kubernetes.
  readonly saturation = new Gauge({ name: 'onnx_fleet_saturation', help: 'Requests executing or queued on this instance per inference worker ((in-flight + queued) / workers)', registers: [this.registry] });
  /**
   * Triton's queue summary name (its --metrics-config summary_latencies=true), quantiles over a sliding
   * window. Set from QueueWaitWindow at scrape time (a t-digest per request costs the event loop too much).
   */
  readonly queueSummary = new Gauge({ name: 'nv_inference_queue_summary_us', help: `Time requests waited in the queue in microseconds, quantiles over the last ${QUEUE_WAIT_WINDOW_MS / 2000}-${QUEUE_WAIT_WINDOW_MS / 1000} s`, labelNames: [...MODEL_LABELS, 'quantile'], registers: [this.registry] });
  readonly cloudwatchPublishes = new Counter({ name: 'onnx_fleet_cloudwatch_publish_total', help: 'PutMetricData calls of the saturation publisher by result (ok, error, skipped: the previous call was still in flight)', labelNames: ['result'], registers: [this.registry] });
  readonly cloudwatchLastSuccess = new Gauge({ name: 'onnx_fleet_cloudwatch_last_success_timestamp_seconds', help: 'Unix time of the last accepted PutMetricData call (0: none yet)', registers: [this.registry] });
  readonly residentBytes = new Gauge({ name: 'onnx_fleet_model_resident_bytes', help: 'Memory the version\'s sessions take, all instances (measured RSS growth for loads beside serving, else estimated from the file size)', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly requestBytesInFlight = new Gauge({ name: 'onnx_fleet_request_bytes_in_flight', help: 'Bytes of request bodies held (reserved against --max-request-bytes-in-flight)', registers: [this.registry] });
  readonly requestBytesBudget = new Gauge({ name: 'onnx_fleet_request_bytes_budget', help: 'The request bytes budget (--max-request-bytes-in-flight)', registers: [this.registry] });
  // Model releases (runtime/models): loads refused or failed, repository polls, the per-model canary.
  readonly loadFailures = new Counter({ name: 'onnx_fleet_model_load_failures_total', help: 'Model version loads that failed (reason=load) or were refused for lack of memory (reason=memory); the versions serving kept serving', labelNames: [...MODEL_LABELS, 'reason'], registers: [this.registry] });
  readonly loadReports = new Counter({ name: 'onnx_fleet_model_load_reports_total', help: 'Load markers written to the remote model repository (release gating: a version new instances may start from), by result (ok, failed: the store refused or could not be reached; serving is unaffected)', labelNames: ['result'], registers: [this.registry] });
  readonly repositoryPolls = new Counter({ name: 'onnx_fleet_repository_polls_total', help: 'Model repository polls by result (ok, failed: the repository could not be read and nothing changed)', labelNames: ['result'], registers: [this.registry] });
  readonly canaryWeight = new Gauge({ name: 'onnx_fleet_model_canary_weight_percent', help: 'Share of requests routed to the per-model canary version (release.json), 0 once routed out', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly canaryRoutedOut = new Gauge({ name: 'onnx_fleet_model_canary_routed_out', help: '1 when the per-model canary version was taken out of routing for exceeding its bounds', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly httpRequests = new Counter({ name: 'onnx_fleet_http_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'code'], registers: [this.registry], collect: this.flushTallies });

  // Data capture (runtime/capture): never on the inference path's critical section.
  readonly captureRecords = new Counter({ name: 'onnx_fleet_capture_records_total', help: 'Sampled records accepted into the capture journal', labelNames: MODEL_LABELS, registers: [this.registry] });
  readonly captureDropped = new Counter({ name: 'onnx_fleet_capture_records_dropped_total', help: 'Sampled records not captured (journal full or failing); inference was unaffected', labelNames: [...MODEL_LABELS, 'reason'], registers: [this.registry] });
  readonly captureJournaled = new Counter({ name: 'onnx_fleet_capture_records_journaled_total', help: 'Records held in the journal for retry because a shard or the database was unreachable', registers: [this.registry] });
  readonly captureStored = new Counter({ name: 'onnx_fleet_capture_records_stored_total', help: 'Records written to their shard', labelNames: ['shard'], registers: [this.registry] });
  readonly captureIndexed = new Counter({ name: 'onnx_fleet_capture_records_indexed_total', help: 'Index rows written to the primary', registers: [this.registry] });
  readonly captureJournalBytes = new Gauge({ name: 'onnx_fleet_capture_journal_bytes', help: 'Bytes in the capture journal (records not yet both stored and indexed)', registers: [this.registry] });
  readonly captureSinkUp = new Gauge({ name: 'onnx_fleet_capture_sink_up', help: '1 when the capture sink (a shard, or the database) accepted its last write, else 0', labelNames: ['sink'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Puts every per-model series at 0 so dashboards see the model before its first request. */
  registerModel(model: string, version: string): void {
    const labels = { model, version };
    for (const c of [this.requestSuccess, this.inferenceCount, this.execCount, this.requestDuration, this.queueDuration, this.computeInputDuration, this.computeInferDuration, this.computeOutputDuration]) {
      c.inc(labels, 0);
    }
    this.pending.set(labels, 0);
    this.modelReady.set(labels, 0);
    this.modelWarmed.set(labels, 0);
  }

  /** The success tally of a model version (the same object for every call with the same labels). */
  successTally(model: string, version: string): SuccessTally {
    const key = `${model}\u0000${version}`;
    let t = this.tallies.get(key);
    if (!t) {
      t = { labels: { model, version }, tally: { count: 0, requestUs: 0, queueUs: 0, inputUs: 0, outputUs: 0 } };
      this.tallies.set(key, t);
    }
    return t.tally;
  }

  /**
   * The tally of one series of a counter (the same object for the same counter and labels): for
   * counters incremented per request on the hot path (sheds, failures, HTTP status counts), where a
   * labelled inc hashing its labels cost the front door a measurable share of each shed (issue 15).
   */
  countTally(counter: Counter<string>, labels: Record<string, string>): CountTally {
    let key = (counter as unknown as { name: string }).name;
    for (const k in labels) key += `\u0000${labels[k]}`;
    let c = this.counts.get(key);
    if (!c) {
      c = { counter, labels: { ...labels }, tally: { n: 0 } };
      this.counts.set(key, c);
    }
    return c.tally;
  }

  /** Adds the tallies to their counters and zeroes them (called whenever any of those counters is read). */
  private flush(): void {
    for (const { counter, labels, tally } of this.counts.values()) {
      if (tally.n === 0) continue;
      counter.inc(labels, tally.n);
      tally.n = 0;
    }
    for (const { labels, tally } of this.tallies.values()) {
      if (tally.count === 0) continue;
      this.requestSuccess.inc(labels, tally.count);
      this.requestDuration.inc(labels, tally.requestUs);
      this.queueDuration.inc(labels, tally.queueUs);
      this.computeInputDuration.inc(labels, tally.inputUs);
      this.computeOutputDuration.inc(labels, tally.outputUs);
      tally.count = tally.requestUs = tally.queueUs = tally.inputUs = tally.outputUs = 0;
    }
  }

  /** Reports the bytes budget's use at every scrape. */
  watchRequestBytes(budget: { readonly inFlight: number; readonly limit: number }): void {
    this.requestBytesBudget.set(budget.limit);
    this.watchedBudget = budget;
  }

  private watchedBudget?: { readonly inFlight: number };

  async render(): Promise<string> {
    if (this.watchedBudget) this.requestBytesInFlight.set(this.watchedBudget.inFlight);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
