/**
 * The health contract on a real load balancer: 3 runtime processes behind HAProxy (checks from
 * runtime/contract.ts), steady bounded load on loopback, and the faults the platform must survive.
 * Every scenario asserts exact counts from the load generator and from HAProxy's stats, and logs
 * its figures (FLEET lines) for the README's reliability section.
 *
 * Order matters and is part of the story: the fleet starts with one instance whose repository
 * holds a model that fails to load (4), that instance is then redeployed fixed, and the faults
 * follow on the healthy fleet (1, 2, 3), then overload (5).
 */
import { DRAIN_DELAY_SECONDS, HEALTH_CHECK, HEALTH_DETECTION_SECONDS } from '../../runtime/contract';
import type { StatRow } from '../helpers/haproxy';
import { LoadHandle, LoadResult, runLoad, startLoad } from '../helpers/load';
import { Fleet, fleetAvailable, logMessages, metricValue, scrape, sleep } from './fleet';
import { buildFleetRepository } from './repository';
import { heavyRequest, irisRequest } from './requests';

const run = fleetAvailable() ? describe : describe.skip;

/** Requests per second of the steady load, and the most in flight at once. */
const STEADY_RATE = 150;
const STEADY_CONCURRENCY = 512;
/** How long HAProxy waits for a response before retrying elsewhere (`timeout server`). */
const SERVER_TIMEOUT_MS = 5000;
const QUEUE_BOUND = 8;
/** A check is scheduled every interval; a poll of the stats adds at most this much to a measured time. */
const POLL_SLACK_MS = 500;

const report = (scenario: string, figures: Record<string, unknown>) => {
  // eslint-disable-next-line no-console
  console.log(`FLEET ${scenario} ${JSON.stringify(figures)}`);
};

const n = (row: StatRow, field: string) => Number(row[field] || 0);

/** Until the process has finished loading (ready, or not ready for a reason other than starting). */
async function waitForLoaded(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${url}/v2/health/ready`);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} did not become ready`);
}

/** Per-field differences of the backend row and every server row between two snapshots. */
function delta(before: Record<string, StatRow>, after: Record<string, StatRow>, fields: string[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const name of Object.keys(after)) {
    out[name] = {};
    for (const f of fields) out[name][f] = n(after[name], f) - n(before[name] ?? {}, f);
  }
  return out;
}

const FIELDS = ['stot', 'hrsp_2xx', 'hrsp_5xx', 'wretr', 'wredis', 'econ', 'eresp', 'chkdown'];

run('fleet: 3 runtimes behind HAProxy with health checks from the contract', () => {
  let fleet: Fleet;
  let goodRepo: string;
  let brokenRepo: string;

  const steady = (): LoadHandle =>
    startLoad({ url: fleet.url, request: irisRequest(), ratePerSecond: STEADY_RATE, concurrency: STEADY_CONCURRENCY, timeoutMs: 60_000 });

  /** Checks a steady run against HAProxy's own counts over the same window. */
  function expectConsistent(result: LoadResult, d: Record<string, Record<string, number>>) {
    expect(result.sent).toBe(result.ok + result.failed + result.shed);
    // Every request the generator sent reached the backend exactly once as a session, and every 200 it saw HAProxy saw.
    expect(d.BACKEND.stot).toBe(result.sent);
    expect(d.BACKEND.hrsp_2xx).toBe(result.ok);
  }

  beforeAll(async () => {
    // The overload model's queue is bounded tightly; iris keeps its example configuration (bounded at its own size).
    goodRepo = buildFleetRepository({ maxQueueSize: QUEUE_BOUND, boundedModels: ['text-orientation'] });
    brokenRepo = buildFleetRepository({ maxQueueSize: QUEUE_BOUND, boundedModels: ['text-orientation'], withBroken: true });
    fleet = await Fleet.start({
      instances: [
        { name: 'r0', repository: goodRepo },
        { name: 'r1', repository: goodRepo },
        { name: 'r2', repository: brokenRepo },
      ],
      // One worker, one onnxruntime thread each: 3 instances share 2 cores. The drain delay is the contract's.
      commonArgs: ['--workers', '1', '--intra-op-threads', '1', '--drain-delay', String(DRAIN_DELAY_SECONDS), '--exit-timeout', '10'],
      haproxy: { serverTimeoutMs: SERVER_TIMEOUT_MS },
    });
    const rise = (HEALTH_CHECK.healthyThreshold + 1) * HEALTH_CHECK.intervalSeconds * 1000 + 30_000;
    await Promise.all([fleet.waitInRotation('r0', rise), fleet.waitInRotation('r1', rise)]);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  test('(4) a model with no version that loads: never ready, never gets traffic, says why in its log', async () => {
    const r2 = fleet.instance('r2');
    expect((await fleet.haproxy.server('r2')).status).toBe('DOWN');
    const before = await fleet.haproxy.servers();
    const result = await runLoad({ url: fleet.url, request: irisRequest(), ratePerSecond: STEADY_RATE, concurrency: STEADY_CONCURRENCY, durationMs: 10_000 });
    const after = await fleet.haproxy.settledServers();
    const d = delta(before, after, FIELDS);
    expectConsistent(result, d);
    expect(result.failed).toBe(0);
    // Since it was registered, not one request was sent to it.
    expect(n(after.r2, 'stot')).toBe(0);
    expect(after.r2.status).toBe('DOWN');
    const ready = await fetch(`${r2.url}/v2/health/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { reason: string };
    expect(body.reason).toMatch(/broken/);
    const notReady = logMessages(r2.logs).find((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('not ready'));
    expect(notReady).toBeDefined();
    expect(JSON.stringify(notReady)).toMatch(/broken/);
    report('4-broken-model', { sent: result.sent, failed: result.failed, sessionsToBroken: n(after.r2, 'stot'), r0: d.r0.stot, r1: d.r1.stot, status: after.r2.status, reason: body.reason.slice(0, 160) });

    // Redeploy it fixed (same port): it comes into rotation once it passes `rise` checks.
    r2.signal('SIGKILL');
    await r2.current.exited;
    r2.repository = goodRepo;
    await r2.start();
    const waited = await fleet.waitInRotation('r2', 60_000);
    report('4-redeployed', { inRotationAfterMs: waited });
  }, 120_000);

  test('(1) SIGTERM one instance: 0 failed requests, it drains and exits 0', async () => {
    const r0 = fleet.instance('r0');
    const before = await fleet.haproxy.servers();
    const load = steady();
    await sleep(2000);
    const t0 = Date.now();
    r0.signal('SIGTERM');
    const markedDown = await fleet.haproxy.waitForStatus('r0', (s) => s === 'DOWN', (HEALTH_DETECTION_SECONDS + 5) * 1000);
    const code = await r0.current.exited;
    const exitedAfterMs = Date.now() - t0;
    await sleep(1000);
    const result = await load.stop();
    const after = await fleet.haproxy.settledServers();
    const d = delta(before, after, FIELDS);
    report('1-sigterm', { sent: result.sent, ok: result.ok, failed: result.failed, skipped: result.skipped, markedDownMs: markedDown - t0, exitedAfterMs, exitCode: code, retries: d.BACKEND.wretr, redispatches: d.BACKEND.wredis, p99Ms: result.latencyMs.p99 });
    expect(code).toBe(0);
    expect(result.failed).toBe(0);
    expect(result.skipped).toBe(0);
    expectConsistent(result, d);
    expect(d.BACKEND.hrsp_5xx).toBe(0);
    // The load balancer stopped sending before the listener closed: nothing needed a retry.
    expect(markedDown - t0).toBeLessThanOrEqual(HEALTH_DETECTION_SECONDS * 1000 + POLL_SLACK_MS);
    expect(markedDown - t0).toBeLessThan(DRAIN_DELAY_SECONDS * 1000);
    const messages = logMessages(r0.current.logs).map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['draining: readiness now 503, still serving', 'closing listener; finishing in-flight requests', 'stopped']));

    // The replacement instance joins the rotation.
    await r0.start();
    await fleet.waitInRotation('r0', 60_000);
  }, 120_000);

  test('(2) SIGKILL one instance: 0 failed requests thanks to retry-on; restarted, it is back in rotation once healthy', async () => {
    const r1 = fleet.instance('r1');
    const before = await fleet.haproxy.servers();
    const load = steady();
    await sleep(2000);
    const t0 = Date.now();
    r1.signal('SIGKILL');
    expect(await r1.current.exited).toBeNull();
    // Until the checks take it out, requests HAProxy sends to it fail to connect and are retried elsewhere.
    const markedDown = await fleet.haproxy.waitForStatus('r1', (s) => s === 'DOWN', (HEALTH_DETECTION_SECONDS + 5) * 1000);
    // The supervisor restarts it (see (2b) for a restart faster than the checks).
    await fleet.restart('r1', 0);
    const stotAtRestart = n(await fleet.haproxy.server('r1'), 'stot');
    await fleet.haproxy.waitForStatus('r1', (s) => s === 'UP', 60_000);
    const upAt = Date.now();
    while (n(await fleet.haproxy.server('r1'), 'stot') === stotAtRestart && Date.now() - upAt < 20_000) await sleep(200);
    await sleep(2000);
    const result = await load.stop();
    const after = await fleet.haproxy.settledServers();
    const d = delta(before, after, FIELDS);
    report('2-sigkill', {
      sent: result.sent, ok: result.ok, failed: result.failed, skipped: result.skipped,
      retries: d.BACKEND.wretr, redispatches: d.BACKEND.wredis, connErrorsToKilled: d.r1.econ,
      markedDownMs: markedDown - t0, backInRotationAfterMs: upAt - t0, sessionsAfterRestart: n(after.r1, 'stot') - stotAtRestart,
      failures: result.failures.slice(0, 3), errors: result.errors, statuses: result.statuses,
    });
    expect(result.failed).toBe(0);
    expect(result.skipped).toBe(0);
    expectConsistent(result, d);
    expect(d.BACKEND.hrsp_5xx).toBe(0);
    expect(n(after.r1, 'stot')).toBeGreaterThan(stotAtRestart);
    expect(after.r1.status).toBe('UP');
  }, 120_000);

  test('(2b) SIGKILL with an immediate restart (systemd RestartSec=1): the only failures are 503s from the restarted process while its models load', async () => {
    const r1 = fleet.instance('r1');
    const before = await fleet.haproxy.servers();
    const load = steady();
    await sleep(2000);
    r1.signal('SIGKILL');
    await r1.current.exited;
    // Restart=always, RestartSec=1 (bundle/systemd.ts): back before the checks notice the crash.
    await fleet.restart('r1', 1000);
    await waitForLoaded(r1.url);
    await fleet.haproxy.waitForStatus('r1', (s) => s === 'UP', 60_000);
    await sleep(2000);
    const result = await load.stop();
    const after = await fleet.haproxy.settledServers();
    const d = delta(before, after, FIELDS);
    const loading = result.failures.filter((f) => f.status === 503 && /LOADING|starting|no ready version/.test(f.body ?? ''));
    report('2b-sigkill-fast-restart', {
      sent: result.sent, ok: result.ok, failed: result.failed, failedWhileLoading: loading.length, errors: result.errors,
      retries: d.BACKEND.wretr, redispatches: d.BACKEND.wredis, chkdown: d.r1.chkdown,
    });
    // No connection error or reset reached a client: retry-on covered the crash itself.
    expect(result.errors).toEqual({});
    expect(loading.length).toBe(result.failed);
    expectConsistent(result, d);
    expect(after.r1.status).toBe('UP');
  }, 120_000);

  test('(3) SIGSTOP one instance for 20 s: marked down within interval × fall (+ timeout), back after SIGCONT', async () => {
    const r2 = fleet.instance('r2');
    const before = await fleet.haproxy.servers();
    const loadStartedAt = Date.now();
    const load = steady();
    await sleep(2000);
    const inFlightAtStop = n(await fleet.haproxy.server('r2'), 'scur');
    const t0 = Date.now();
    r2.signal('SIGSTOP');
    const markedDown = await fleet.haproxy.waitForStatus('r2', (s) => s === 'DOWN', (HEALTH_DETECTION_SECONDS + 5) * 1000);
    const remaining = 20_000 - (Date.now() - t0);
    if (remaining > 0) await sleep(remaining);
    // Nothing reached it while it was down.
    const whileDown = await fleet.haproxy.server('r2');
    r2.signal('SIGCONT');
    const contAt = Date.now();
    await fleet.haproxy.waitForStatus('r2', (s) => s === 'UP', 60_000);
    const backAfterMs = Date.now() - contAt;
    await sleep(2000);
    const result = await load.stop();
    const after = await fleet.haproxy.settledServers();
    const d = delta(before, after, FIELDS);
    report('3-sigstop', {
      sent: result.sent, ok: result.ok, failed: result.failed, skipped: result.skipped, inFlightAtStop,
      markedDownMs: markedDown - t0, limitMs: HEALTH_DETECTION_SECONDS * 1000, backInRotationAfterContMs: backAfterMs,
      retries: d.BACKEND.wretr, redispatches: d.BACKEND.wredis, p99Ms: result.latencyMs.p99, maxMs: result.latencyMs.max,
      failures: result.failures.slice(0, 5), stoppedAtMs: t0 - loadStartedAt,
    });
    expect(markedDown - t0).toBeLessThanOrEqual(HEALTH_DETECTION_SECONDS * 1000 + POLL_SLACK_MS);
    // Only requests in flight to it at that moment may fail (HAProxy retries the rest after `timeout server`).
    expect(result.failed).toBeLessThanOrEqual(inFlightAtStop);
    expectConsistent(result, d);
    expect(whileDown.status).toBe('DOWN');
    expect(after.r2.status).toBe('UP');
    expect(r2.alive).toBe(true);
  }, 120_000);

  test('(5) overload at 3× capacity: every instance sheds 503 + Retry-After, none marked down, RSS bounded', async () => {
    const capacity = await runLoad({ url: fleet.url, request: heavyRequest(), concurrency: 6, durationMs: 4000 });
    expect(capacity.failed).toBe(0);
    const rate = Math.round(capacity.okRps * 3);
    const rssBefore = fleet.instances.map((i) => i.rss());
    const shedBefore = await Promise.all(fleet.instances.map(async (i) => metricValue(await scrape(i.url), 'onnx_fleet_requests_shed_total')));
    const before = await fleet.haproxy.servers();
    const load = startLoad({ url: fleet.url, request: heavyRequest(), ratePerSecond: rate, concurrency: 128, timeoutMs: 30_000, shedStatuses: [503] });
    const rssMax = [...rssBefore];
    const statuses = new Set<string>();
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      await sleep(250);
      fleet.instances.forEach((inst, k) => (rssMax[k] = Math.max(rssMax[k], inst.rss())));
      for (const [name, row] of Object.entries(await fleet.haproxy.servers())) if (name !== 'BACKEND') statuses.add(`${name}:${row.status}`);
    }
    const result = await load.stop();
    const after = await fleet.haproxy.settledServers();
    const shedAfter = await Promise.all(fleet.instances.map(async (i) => metricValue(await scrape(i.url), 'onnx_fleet_requests_shed_total')));
    const d = delta(before, after, FIELDS);
    const shedPerInstance = fleet.instances.map((_, k) => shedAfter[k] - shedBefore[k]);
    const rssGrowth = fleet.instances.map((_, k) => Math.round(((rssMax[k] - rssBefore[k]) / rssBefore[k]) * 1000) / 10);
    report('5-overload', {
      capacityRps: capacity.okRps, offeredRps: rate, sent: result.sent, ok: result.ok, shed: result.shed, failed: result.failed, skipped: result.skipped,
      statuses: result.statuses, shedPerInstance, hrsp5xxPerServer: fleet.instances.map((i) => d[i.name].hrsp_5xx),
      chkdown: fleet.instances.map((i) => d[i.name].chkdown), states: [...statuses],
      rssBeforeMiB: rssBefore.map((b) => Math.round(b / 2 ** 20)), rssMaxMiB: rssMax.map((b) => Math.round(b / 2 ** 20)), rssGrowthPct: rssGrowth,
      p99Ms: result.latencyMs.p99,
    });
    expect(result.failed).toBe(0);
    expect(result.shed).toBeGreaterThan(0);
    expect(result.statuses['503']).toBe(result.shed); // every 503 carried Retry-After
    expectConsistent(result, d);
    for (const [k, inst] of fleet.instances.entries()) {
      expect(shedPerInstance[k]).toBeGreaterThan(0);
      expect(d[inst.name].hrsp_5xx).toBe(shedPerInstance[k]);
      expect(d[inst.name].chkdown).toBe(0);
      expect(after[inst.name].status).toBe('UP');
      // Bounded queues: memory does not grow with the offered load. The instances are the same
      // program; their idle RSS differs only by when the last GC ran, so the bound is taken
      // from the fleet's largest idle RSS (3× the offered load must not reach 1.5× of it).
      expect(rssMax[k]).toBeLessThan(Math.max(...rssBefore) * 1.5);
    }
    expect([...statuses].every((s) => s.endsWith(':UP'))).toBe(true);
  }, 120_000);
});
