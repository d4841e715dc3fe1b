/**
 * The saturation signal and its CloudWatch publisher, against a real local endpoint that speaks
 * PutMetricData's protocol (test/helpers/cloudwatch.ts) and a real runtime under load.
 * High-resolution metrics: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/publishingMetrics.html#high-resolution-metrics
 * PutMetricData limits: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import pino from 'pino';
import { CloudWatchPublisher, metricData } from '../../runtime/cloudwatch-publisher';
import { CLOUDWATCH_DIMENSIONS, MODEL_RELEASE_METRIC, SATURATION_METRIC } from '../../runtime/contract';
import type { Runtime } from '../../runtime/server';
import { QueueWaitWindow, bucketOf, bucketUpperUs } from '../../runtime/scheduling/queue-wait-window';
import { SaturationSignal } from '../../runtime/scheduling/saturation';
import { CloudWatchEndpoint, startCloudWatchEndpoint } from '../helpers/cloudwatch';
import { metricValue } from '../fleet/fleet';
import { EXAMPLES, startTestRuntime } from '../helpers/runtime';
import { closedLoop } from '../helpers/load';

const GROUP = 'onnx-fleet-test-asg';

function client(endpoint: CloudWatchEndpoint): CloudWatchClient {
  return new CloudWatchClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' }, maxAttempts: 1 });
}

describe('QueueWaitWindow', () => {
  test('quantiles come within one bucket (9 %) of the exact value and cover one window only', () => {
    let now = 0;
    const w = new QueueWaitWindow(10_000, () => now);
    for (let i = 1; i <= 1000; i++) w.observe(i * 100); // 100 µs .. 100 ms
    const p90 = w.quantile(0.9);
    expect(p90).toBeGreaterThanOrEqual(90_000);
    expect(p90).toBeLessThan(90_000 * 1.1);
    expect(w.count()).toBe(1000);
    now = 6000; // next slice: the old one is still in the window
    w.observe(5);
    expect(w.count()).toBe(1001);
    now = 11_000; // two slices later: only the 5 µs observation's slice is left
    expect(w.count()).toBe(1);
    expect(w.quantile(0.9)).toBe(bucketUpperUs(bucketOf(5)));
    now = 30_000;
    expect(w.quantile(0.9)).toBe(0);
  });
});

describe('saturation signal on a real runtime', () => {
  let rt: Runtime;
  let endpoint: CloudWatchEndpoint;
  beforeAll(async () => {
    endpoint = await startCloudWatchEndpoint();
    rt = await startTestRuntime(EXAMPLES);
  }, 60_000);
  afterAll(async () => {
    await rt?.stop();
    await endpoint?.close();
  });

  const heavy = () => {
    const count = 8 * 3 * 48 * 192;
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [8, 3, 48, 192], parameters: { binary_data_size: count * 4 } }] }));
    return { body: Buffer.concat([header, Buffer.from(new Float32Array(count).fill(0.2).buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } };
  };

  test('/metrics and the published datums carry (in-flight + queued) / workers and queue wait p90 under one name family', async () => {
    const signal = new SaturationSignal(rt.models, 2, rt.metrics);
    expect(signal.sample().saturation).toBe(0);
    const { body, headers } = heavy();
    // Closed-loop load held until both readings are taken: a fixed burst can drain before the
    // scrape is answered on a fast box (24 requests did, once batches got cheaper), a sustained one cannot.
    const statuses: number[] = [];
    const load = closedLoop(16, async () => {
      const r = await fetch(`${rt.url}/v2/models/text-orientation/infer`, { method: 'POST', headers, body });
      await r.arrayBuffer();
      return r.status;
    }, (status) => statuses.push(status));
    let publisher: CloudWatchPublisher;
    try {
      const deadline = Date.now() + 30_000;
      while (rt.models.pending < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      const text = await (await fetch(`${rt.url}/metrics`)).text();
      const saturation = metricValue(text, SATURATION_METRIC.saturation);
      // 2 workers (startTestRuntime): the gauge is pending / 2 at scrape time. 16 clients keep
      // nearly all 16 requests pending at any moment, so the scrape sees the server saturated.
      expect(saturation).toBeGreaterThan(0);
      expect(metricValue(text, SATURATION_METRIC.pending, { model: 'text-orientation' })).toBeCloseTo(saturation * 2, 5);

      // A publish while work is queued carries the same numbers (the same sample source).
      publisher = new CloudWatchPublisher({ client: client(endpoint), signal, metrics: rt.metrics, logger: pino({ level: 'silent' }), autoScalingGroupName: GROUP });
      await publisher.tick();
      expect(endpoint.rejections).toEqual([]);
      const sat = endpoint.datums.find((d) => d.metricName === SATURATION_METRIC.saturation)!;
      expect(sat).toMatchObject({ namespace: SATURATION_METRIC.namespace, storageResolution: 1, dimensions: { AutoScalingGroupName: GROUP } });
      expect(sat.value).toBeGreaterThan(0);
      expect(Math.abs(sat.timestamp.getTime() - Date.now())).toBeLessThan(10_000);
    } finally {
      await load.stop();
    }
    expect(statuses.length).toBeGreaterThanOrEqual(16);
    expect(statuses.every((s) => s === 200)).toBe(true);

    // After the burst: waits were recorded, p90 on /metrics and in the next publish agree in kind.
    const after = await (await fetch(`${rt.url}/metrics`)).text();
    const p90 = metricValue(after, SATURATION_METRIC.queueWait, { model: 'text-orientation', quantile: '0.9' });
    expect(p90).toBeGreaterThan(0);
    expect(metricValue(after, SATURATION_METRIC.saturation)).toBe(0);
    await publisher.tick();
    const wait = endpoint.datums.filter((d) => d.metricName === SATURATION_METRIC.queueWait && d.dimensions.model === 'text-orientation').pop()!;
    expect(wait).toMatchObject({ unit: 'Microseconds', storageResolution: 1, dimensions: { AutoScalingGroupName: GROUP, model: 'text-orientation', version: '1', quantile: '0.9' } });
    expect(wait.value).toBe(p90);
    expect(metricValue(after, 'onnx_fleet_cloudwatch_publish_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
  }, 120_000);

  test('a handful of datums per model: the instance gauge plus two per model version', () => {
    const sample = new SaturationSignal(rt.models, 2, rt.metrics).sample();
    const data = metricData(sample, GROUP, new Date());
    expect(data).toHaveLength(1 + 2 * sample.models.length);
    expect(new Set(data.map((d) => d.MetricName))).toEqual(new Set([SATURATION_METRIC.saturation, SATURATION_METRIC.pending, SATURATION_METRIC.queueWait]));
    expect(data.every((d) => d.StorageResolution === 1 && d.Dimensions![0].Name === 'AutoScalingGroupName')).toBe(true);
  });

  test('model release health: load failures since the last successful publish (none lost to a failed call) and canaries routed out, with the dimensions alarms name', async () => {
    const health = { loadFailureCount: 0, routedOut: 0, canariesRoutedOut() { return this.routedOut; } };
    const publisher = new CloudWatchPublisher({ client: client(endpoint), signal: new SaturationSignal(rt.models, 2, rt.metrics), releases: health, metrics: rt.metrics, logger: pino({ level: 'silent' }), autoScalingGroupName: GROUP, timeoutMs: 2000 });
    const published = (name: string) => endpoint.datums.filter((d) => d.metricName === name).map((d) => d.value);
    const before = endpoint.datums.length;
    await publisher.tick();
    health.loadFailureCount = 3;
    health.routedOut = 1;
    await publisher.tick();
    // A failed call: its 2 failures are published with the next successful one.
    health.loadFailureCount = 5;
    endpoint.mode = { kind: 'error', status: 500, code: 'InternalServiceError' };
    await publisher.tick();
    endpoint.mode = { kind: 'ok' };
    health.loadFailureCount = 6;
    health.routedOut = 0;
    await publisher.tick();
    expect(endpoint.rejections).toEqual([]);
    expect(published(MODEL_RELEASE_METRIC.loadFailures)).toEqual([0, 3, 3]);
    expect(published(MODEL_RELEASE_METRIC.canariesRoutedOut)).toEqual([0, 1, 0]);
    // Every datum carries exactly the dimensions the contract (and so the stack's alarms) name.
    for (const d of endpoint.datums.slice(before)) expect(Object.keys(d.dimensions).sort()).toEqual([...CLOUDWATCH_DIMENSIONS[d.metricName]].sort());
    // The real manager counts nothing for the examples, which all load.
    expect(rt.models.loadFailureCount).toBe(0);
    expect(rt.models.canariesRoutedOut()).toBe(0);
  });

  test('an endpoint that fails or stalls is counted and never delays inference', async () => {
    const metrics = rt.metrics;
    const count = async (result: string) => metricValue(await (await fetch(`${rt.url}/metrics`)).text(), 'onnx_fleet_cloudwatch_publish_total', { result });
    const publisher = new CloudWatchPublisher({ client: client(endpoint), signal: new SaturationSignal(rt.models, 2, metrics), metrics, logger: pino({ level: 'silent' }), autoScalingGroupName: GROUP, intervalMs: 10_000, timeoutMs: 500 });
    const errorsBefore = await count('error');
    endpoint.mode = { kind: 'error', status: 400, code: 'Throttling' };
    await publisher.tick();
    endpoint.mode = { kind: 'error', status: 500, code: 'InternalServiceError' };
    await publisher.tick();
    expect((await count('error')) - errorsBefore).toBe(2);

    // A stalled endpoint: the call times out, a tick meanwhile is skipped, inference answers at once.
    endpoint.mode = { kind: 'stall', ms: 3000 };
    const stalled = publisher.tick();
    const skippedBefore = await count('skipped');
    void publisher.tick();
    expect((await count('skipped')) - skippedBefore).toBe(1);
    const t0 = Date.now();
    const res = await fetch(`${rt.url}/v2/models/iris/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] }) });
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(400);
    await stalled;
    expect((await count('error')) - errorsBefore).toBe(3);
    endpoint.mode = { kind: 'ok' };
    await publisher.tick();
    await publisher.stop();
    expect(metricValue(await (await fetch(`${rt.url}/metrics`)).text(), 'onnx_fleet_cloudwatch_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 5);
  }, 30_000);
});

describe('the runtime publishes by itself when given its Auto Scaling group', () => {
  test('--autoscaling-group-name: one PutMetricData every 10 s with the instance role chain (here: environment credentials)', async () => {
    const endpoint = await startCloudWatchEndpoint();
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ENDPOINT_URL_CLOUDWATCH: endpoint.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local-secret' });
    const rt = await startTestRuntime(EXAMPLES, ['--autoscaling-group-name', GROUP]);
    try {
      const deadline = Date.now() + SATURATION_METRIC.periodSeconds * 1000 + 5000;
      while (endpoint.requests === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(endpoint.rejections).toEqual([]);
      expect(endpoint.requests).toBe(1);
      expect(endpoint.datums.find((d) => d.metricName === SATURATION_METRIC.saturation)).toMatchObject({ value: 0, dimensions: { AutoScalingGroupName: GROUP } });
    } finally {
      process.env = saved;
      await rt.stop();
      await endpoint.close();
    }
  }, 30_000);
});
