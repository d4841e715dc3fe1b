/**
 * The per-model canary on one runtime (release.json's `canary`; not the stack's fleet-level
 * `canaryWeight`): requests that do not name a version go to the canary version with its weight,
 * and its outcomes are compared with the stable version's during the bake time. Once both sides
 * have `min_requests`, a failure rate more than `max_failure_rate_increase` above stable's, or a
 * p99 above stable's × `max_p99_ratio`, takes the canary out of routing on this instance (metric
 * and log; named versions still reach it). Its failure budget is thus about its weight × the
 * requests of its bake window.
 */
import type { Logger } from 'pino';
import type { RuntimeMetrics } from '../metrics';
import type { ModelCanary } from './release-manifest';

/** Latency samples kept per side for the p99. */
const SAMPLES = 2048;

class Side {
  requests = 0;
  failures = 0;
  private readonly latencies = new Float64Array(SAMPLES);

  record(ok: boolean, latencyUs: number): void {
    this.latencies[this.requests % SAMPLES] = latencyUs;
    this.requests++;
    if (!ok) this.failures++;
  }

  get failureRate(): number {
    return this.requests === 0 ? 0 : this.failures / this.requests;
  }

  p99(): number {
    const n = Math.min(this.requests, SAMPLES);
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.ceil(n * 0.99) - 1)] ?? 0;
  }
}

/** What a canary reports: counts per side and its state, for logs, index and tests. */
export interface CanaryStatus {
  version: number;
  weightPercent: number;
  state: 'baking' | 'baked' | 'routed_out';
  reason?: string;
  stable: { requests: number; failures: number };
  canary: { requests: number; failures: number };
}

export class CanaryRoute {
  private readonly startedAt = Date.now();
  private readonly stable = new Side();
  private readonly side = new Side();
  private lastP99Check = 0;
  routedOut?: string;
  baked = false;

  constructor(
    readonly model: string,
    readonly version: import('./model-manager').ModelVersion,
    private spec: ModelCanary,
    private readonly metrics: RuntimeMetrics,
    private readonly logger: Logger,
  ) {
    const labels = this.labels;
    metrics.canaryWeight.set(labels, spec.weightPercent);
    metrics.canaryRoutedOut.set(labels, 0);
    logger.info({ model, version: spec.version, weightPercent: spec.weightPercent, bakeSecs: spec.bakeSecs }, 'model canary serving');
  }

  private get labels() {
    return { model: this.model, version: String(this.spec.version) };
  }

  /** release.json changed its weight or bounds (the same canary version). */
  update(spec: ModelCanary): void {
    this.spec = spec;
    if (!this.routedOut) this.metrics.canaryWeight.set(this.labels, spec.weightPercent);
  }

  /** Should this request (naming no version) go to the canary? */
  pick(): boolean {
    return !this.routedOut && this.version.state === 'READY' && Math.random() * 100 < this.spec.weightPercent;
  }

  observe(onCanary: boolean, ok: boolean, latencyUs: number): void {
    if (this.routedOut || this.baked) return;
    (onCanary ? this.side : this.stable).record(ok, latencyUs);
    this.judge(!ok);
  }

  private judge(afterFailure: boolean): void {
    const { minRequests, maxFailureRateIncrease, maxP99Ratio, bakeSecs } = this.spec;
    if (Date.now() - this.startedAt > bakeSecs * 1000) {
      this.baked = true;
      this.logger.info({ model: this.model, ...this.status() }, 'model canary baked within its bounds: ready to promote');
      return;
    }
    if (this.side.requests < minRequests || this.stable.requests < minRequests) return;
    const increase = this.side.failureRate - this.stable.failureRate;
    if (increase > maxFailureRateIncrease) {
      return this.routeOut(
        `failure rate ${(this.side.failureRate * 100).toFixed(1)} % (${this.side.failures} of ${this.side.requests}) against stable ${(this.stable.failureRate * 100).toFixed(1)} % (${this.stable.failures} of ${this.stable.requests}): more than ${(maxFailureRateIncrease * 100).toFixed(1)} points above`,
      );
    }
    // p99 needs a sort: at most every 200 ms, and at once after a failure.
    const now = Date.now();
    if (!afterFailure && now - this.lastP99Check < 200) return;
    this.lastP99Check = now;
    const [c, s] = [this.side.p99(), this.stable.p99()];
    if (s > 0 && c > s * maxP99Ratio) this.routeOut(`p99 ${(c / 1000).toFixed(1)} ms against stable ${(s / 1000).toFixed(1)} ms: more than ${maxP99Ratio}× (after ${this.side.requests} and ${this.stable.requests} requests)`);
  }

  private routeOut(reason: string): void {
    this.routedOut = reason;
    this.metrics.canaryRoutedOut.set(this.labels, 1);
    this.metrics.canaryWeight.set(this.labels, 0);
    this.logger.error({ model: this.model, ...this.status() }, 'model canary routed out: outside its bounds; roll it back (onnx-fleet models rollback)');
  }

  status(): CanaryStatus {
    return {
      version: this.spec.version,
      weightPercent: this.spec.weightPercent,
      state: this.routedOut ? 'routed_out' : this.baked ? 'baked' : 'baking',
      ...(this.routedOut ? { reason: this.routedOut } : {}),
      stable: { requests: this.stable.requests, failures: this.stable.failures },
      canary: { requests: this.side.requests, failures: this.side.failures },
    };
  }
}
