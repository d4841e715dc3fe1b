/**
 * The runtime's saturation signal, the one the platform scales on: per instance, requests executing
 * or queued per inference worker; per model version, requests pending and the queue wait p90 over
 * the last publishing period. Read at scrape and publish time only, never on the request path.
 * /metrics (Prometheus, hence the HPA) and the CloudWatch publisher (hence the ASG) read the same
 * sample, so AWS and Kubernetes scale on the same numbers under the same names.
 */
import type { RuntimeMetrics } from '../metrics';
import type { ModelManager } from '../models/model-manager';

export interface ModelSaturation {
  model: string;
  version: string;
  /** Queued + executing (Triton's nv_inference_pending_request_count). */
  pending: number;
  /** Queue wait quantiles in µs over the last window (0 when idle); p90 is the one published to CloudWatch. */
  queueWaitUs: { p50: number; p90: number; p99: number };
}

export interface SaturationSample {
  /** (in-flight + queued) / workers for the whole instance. */
  saturation: number;
  pending: number;
  workers: number;
  models: ModelSaturation[];
}

export class SaturationSignal {
  constructor(
    private readonly models: Pick<ModelManager, 'list'>,
    private readonly workers: number,
    private readonly metrics: RuntimeMetrics,
  ) {
    if (!(workers >= 1)) throw new Error(`SaturationSignal: workers must be at least 1, got ${workers}`);
  }

  sample(): SaturationSample {
    const models: ModelSaturation[] = [];
    let pending = 0;
    for (const model of this.models.list()) {
      for (const v of [...model.versions, ...(model.canary ? [model.canary.version] : [])]) {
        if (!v.queue) continue;
        pending += v.queue.pending;
        const w = v.queue.waits;
        models.push({ model: v.model, version: String(v.version), pending: v.queue.pending, queueWaitUs: { p50: w.quantile(0.5), p90: w.quantile(0.9), p99: w.quantile(0.99) } });
      }
    }
    return { saturation: pending / this.workers, pending, workers: this.workers, models };
  }

  /** Sets the Prometheus gauges from a fresh sample (before each scrape) and returns the sample. */
  refresh(): SaturationSample {
    const s = this.sample();
    this.metrics.saturation.set(s.saturation);
    for (const m of s.models) {
      const labels = { model: m.model, version: m.version };
      this.metrics.pending.set(labels, m.pending);
      this.metrics.queueSummary.set({ ...labels, quantile: '0.5' }, m.queueWaitUs.p50);
      this.metrics.queueSummary.set({ ...labels, quantile: '0.9' }, m.queueWaitUs.p90);
      this.metrics.queueSummary.set({ ...labels, quantile: '0.99' }, m.queueWaitUs.p99);
    }
    return s;
  }
}
