/**
 * Publishes the saturation signal to CloudWatch every 10 s as high-resolution metrics
 * (StorageResolution 1) with the instance's Auto Scaling group as dimension, so a target tracking
 * policy with a 10 s period can average it over the group. One batched PutMetricData per period
 * with the instance role's credentials (the SDK's default chain reads them from IMDSv2).
 *
 * Off the request path: a timer samples counters the queues already keep. A failure never touches
 * serving: at most one call is in flight (a period that finds one still running is skipped), each
 * call is bounded by a timeout, and every outcome is counted in onnx_fleet_cloudwatch_publish_total.
 */
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { Logger } from 'pino';
import { MODEL_RELEASE_METRIC, SATURATION_METRIC } from './contract';
import type { RuntimeMetrics } from './metrics';
import type { SaturationSample, SaturationSignal } from './scheduling/saturation';

/** Where model release health comes from (the model manager). */
export interface ReleaseHealth {
  /** Failed version loads since start (monotonic). */
  readonly loadFailureCount: number;
  /** Per-model canaries routed out now. */
  canariesRoutedOut(): number;
}

export interface CloudWatchPublisherOptions {
  client: Pick<CloudWatchClient, 'send'>;
  signal: Pick<SaturationSignal, 'sample'>;
  /** Model release health for the stack's load-failure and canary alarms (absent: not published). */
  releases?: ReleaseHealth;
  metrics: RuntimeMetrics;
  logger: Logger;
  autoScalingGroupName: string;
  namespace?: string;
  /** Default: the contract's period (10 s). */
  intervalMs?: number;
  /** Bound of one PutMetricData call. Default: the interval. */
  timeoutMs?: number;
}

/** The datums of one period: a handful per model, one for the instance. */
export function metricData(sample: SaturationSample, groupName: string, at: Date): MetricDatum[] {
  const group = { Name: SATURATION_METRIC.groupDimension, Value: groupName };
  const datum = (MetricName: string, Value: number, Unit: MetricDatum['Unit'], extra: { Name: string; Value: string }[] = []): MetricDatum => ({
    MetricName,
    Value,
    Unit,
    Timestamp: at,
    StorageResolution: SATURATION_METRIC.storageResolutionSeconds,
    Dimensions: [group, ...extra],
  });
  const out = [datum(SATURATION_METRIC.saturation, sample.saturation, 'None')];
  for (const m of sample.models) {
    const labels = [{ Name: 'model', Value: m.model }, { Name: 'version', Value: m.version }];
    out.push(datum(SATURATION_METRIC.pending, m.pending, 'Count', labels));
    out.push(datum(SATURATION_METRIC.queueWait, m.queueWaitUs.p90, 'Microseconds', [...labels, { Name: 'quantile', Value: '0.9' }]));
  }
  return out;
}

/** The model release datums of one period: failures since the last successful publish, canaries routed out now. */
export function releaseMetricData(loadFailures: number, canariesRoutedOut: number, groupName: string, at: Date): MetricDatum[] {
  const Dimensions = [{ Name: SATURATION_METRIC.groupDimension, Value: groupName }];
  return [
    { MetricName: MODEL_RELEASE_METRIC.loadFailures, Value: loadFailures, Unit: 'Count', Timestamp: at, StorageResolution: 1, Dimensions },
    { MetricName: MODEL_RELEASE_METRIC.canariesRoutedOut, Value: canariesRoutedOut, Unit: 'Count', Timestamp: at, StorageResolution: 1, Dimensions },
  ];
}

export class CloudWatchPublisher {
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private lastErrorLogged = 0;
  /** Load failures already published: a failed call leaves them to the next period, never lost. */
  private publishedLoadFailures = 0;
  private readonly namespace: string;
  private readonly intervalMs: number;

  constructor(private readonly options: CloudWatchPublisherOptions) {
    this.namespace = options.namespace ?? SATURATION_METRIC.namespace;
    this.intervalMs = options.intervalMs ?? SATURATION_METRIC.periodSeconds * 1000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** One period: publish unless the previous call is still running. Never rejects. */
  tick(): Promise<void> {
    if (this.inFlight) {
      this.options.metrics.cloudwatchPublishes.inc({ result: 'skipped' });
      return this.inFlight;
    }
    this.inFlight = this.publish().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async publish(): Promise<void> {
    const { metrics, logger } = this.options;
    const at = new Date();
    const data = metricData(this.options.signal.sample(), this.options.autoScalingGroupName, at);
    const releases = this.options.releases;
    const failures = releases?.loadFailureCount ?? 0;
    if (releases) data.push(...releaseMetricData(failures - this.publishedLoadFailures, releases.canariesRoutedOut(), this.options.autoScalingGroupName, at));
    try {
      await this.options.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data }), {
        abortSignal: AbortSignal.timeout(this.options.timeoutMs ?? this.intervalMs),
      });
      metrics.cloudwatchPublishes.inc({ result: 'ok' });
      this.publishedLoadFailures = failures;
      metrics.cloudwatchLastSuccess.set(Date.now() / 1000);
    } catch (err) {
      metrics.cloudwatchPublishes.inc({ result: 'error' });
      // One line a minute at most: a CloudWatch outage must not flood the logs either.
      if (Date.now() - this.lastErrorLogged >= 60_000) {
        this.lastErrorLogged = Date.now();
        logger.warn({ err, namespace: this.namespace }, 'publishing the saturation signal to CloudWatch failed; serving is unaffected, retrying every period');
      }
    }
  }

  /** Stops the timer and waits for a call in flight (bounded by its timeout). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
