/**
 * `npm run soak`: the fleet harness (3 runtimes behind HAProxy, checks from the contract) under
 * 70 % of its measured capacity for 10 minutes. Passes when no request failed and RSS and
 * event-loop delay stay flat (last third vs first third). Not part of CI.
 *
 *   SOAK_MINUTES=10 SOAK_LOAD=0.7 npm run soak     (also: SOAK_MODEL=heavy|iris, SOAK_OUT=file.json)
 */
import fs from 'node:fs';
import { startLoad, runLoad } from '../test/helpers/load';
import { Fleet, metricValue, scrape, sleep } from '../test/fleet/fleet';
import { buildFleetRepository } from '../test/fleet/repository';
import { heavyRequest, irisRequest } from '../test/fleet/requests';

interface Sample {
  minute: number;
  rssMiB: number[];
  eventLoopP99Ms: number[];
  ok: number;
  failed: number;
}

async function main(): Promise<number> {
  const minutes = Number(process.env.SOAK_MINUTES ?? 10);
  const fraction = Number(process.env.SOAK_LOAD ?? 0.7);
  const request = process.env.SOAK_MODEL === 'iris' ? irisRequest() : heavyRequest();
  const repo = buildFleetRepository({ maxQueueSize: 64 });
  const fleet = await Fleet.start({
    instances: ['r0', 'r1', 'r2'].map((name) => ({ name, repository: repo })),
    commonArgs: ['--workers', '1', '--intra-op-threads', '1', '--log-level', 'info'], // the harness reads the 'listening' line
  });
  try {
    await Promise.all(fleet.instances.map((i) => fleet.waitInRotation(i.name, 120_000)));
    const capacity = await runLoad({ url: fleet.url, request, concurrency: 6, durationMs: 10_000 });
    const rate = Math.max(1, Math.round(capacity.okRps * fraction));
    process.stdout.write(`capacity ${capacity.okRps} req/s (closed loop, 6 clients); soaking at ${rate} req/s for ${minutes} min\n`);
    const load = startLoad({ url: fleet.url, request, ratePerSecond: rate, concurrency: 256, timeoutMs: 30_000 });
    const samples: Sample[] = [];
    const started = Date.now();
    const step = 30_000;
    let reported = 0;
    for (let t = step; t <= minutes * 60_000; t += step) {
      await sleep(started + t - Date.now());
      const metrics = await Promise.all(fleet.instances.map((i) => scrape(i.url)));
      const snap = load.snapshot();
      const s: Sample = {
        minute: Math.round((t / 60_000) * 10) / 10,
        rssMiB: fleet.instances.map((i) => Math.round(i.rss() / 2 ** 20)),
        eventLoopP99Ms: metrics.map((m) => Math.round(metricValue(m, 'nodejs_eventloop_lag_p99_seconds') * 1000 * 10) / 10),
        ok: snap.ok,
        failed: snap.failed,
      };
      samples.push(s);
      const newFailures = snap.failures.slice(reported);
      reported = snap.failures.length;
      for (const f of newFailures) process.stdout.write(`        failure at ${(f.at / 1000).toFixed(1)} s: ${f.status !== undefined ? `HTTP ${f.status} ${f.body ?? ''}` : f.error}\n`);
      process.stdout.write(`${String(s.minute).padStart(5)} min  ok ${s.ok}  failed ${s.failed}  RSS MiB ${s.rssMiB.join('/')}  event-loop p99 ms ${s.eventLoopP99Ms.join('/')}\n`);
    }
    const result = await load.stop();
    // HAProxy's side of any failure: per-server retries/redispatches/errors and the frontend's.
    const pick = ['pxname', 'svname', 'status', 'stot', 'hrsp_5xx', 'wretr', 'wredis', 'econ', 'eresp', 'ereq', 'dreq', 'dresp', 'cli_abrt', 'srv_abrt', 'chkdown'];
    const haproxyStats = (await fleet.haproxy.stats()).map((row) => Object.fromEntries(pick.map((k) => [k, row[k]])));
    const third = Math.max(1, Math.floor(samples.length / 3));
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const perInstance = (pick: (s: Sample) => number[], k: number, from: Sample[]) => avg(from.map((s) => pick(s)[k]));
    const first = samples.slice(0, third);
    const last = samples.slice(-third);
    const rssDrift = fleet.instances.map((_, k) => Math.round(((perInstance((s) => s.rssMiB, k, last) - perInstance((s) => s.rssMiB, k, first)) / perInstance((s) => s.rssMiB, k, first)) * 1000) / 10);
    const lagFirst = fleet.instances.map((_, k) => Math.round(perInstance((s) => s.eventLoopP99Ms, k, first) * 10) / 10);
    const lagLast = fleet.instances.map((_, k) => Math.round(perInstance((s) => s.eventLoopP99Ms, k, last) * 10) / 10);
    const summary = {
      minutes, capacityRps: capacity.okRps, rateRps: rate, sent: result.sent, ok: result.ok, failed: result.failed, skipped: result.skipped,
      // What each failure was (status + body, or the client-side error), so a failed soak says why.
      statuses: result.statuses, errors: result.errors, failures: result.failures, haproxyStats,
      latencyMs: result.latencyMs, rssDriftPct: rssDrift, eventLoopP99MsFirstThird: lagFirst, eventLoopP99MsLastThird: lagLast, samples,
    };
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    if (process.env.SOAK_OUT) fs.writeFileSync(process.env.SOAK_OUT, JSON.stringify(summary, null, 2));
    // Flat: no failure, RSS within 10 % and event-loop p99 within 2× (+5 ms) between the first and last thirds.
    const flat = rssDrift.every((d) => d < 10) && lagLast.every((l, k) => l <= lagFirst[k] * 2 + 5);
    process.stdout.write(result.failed === 0 && flat ? 'soak: PASS\n' : `soak: FAIL (failed ${result.failed}, flat ${flat})\n`);
    return result.failed === 0 && flat ? 0 : 1;
  } finally {
    await fleet.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`soak: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
