/**
 * Model releases on a fleet, with real parts: s3rver as the model repository, 3 runtime processes
 * (the compiled CLI in poll mode, each with its own cache) behind HAProxy (health checks from the
 * contract), steady bounded loopback load through HAProxy. Each response names its version
 * (model_version; y = x + version) and its instance (x-served-by, set by HAProxy).
 *   1. publish v2 → every instance serves v2 within poll interval + load time; 0 failed; no v1
 *      from an instance after it switched
 *   2. publish a broken v3 → 0 failed, v2 keeps serving everywhere, the reason in every index
 *   3. a per-model canary at 10 % that fails every request → routed out on every instance; its
 *      failures stay within its budget (weight × the requests while it was routed to)
 * Figures are logged as FLEET lines for the README's reliability table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { S3Shard, S3RVER_ENV, startModelStore } from '../helpers/s3';
import { addConst, failsAtRun, versionDir } from '../helpers/release-models';
import { modelsCommand } from '../../runtime/models/models-command';
import { olderAfterSwitch, SteadyLoad } from '../releases/helpers';
import { Fleet, fleetAvailable, metricValue, scrape, sleep } from './fleet';

const run = fleetAvailable() ? describe : describe.skip;
const POLL_SECS = 2;

const report = (scenario: string, figures: Record<string, unknown>) => {
  // eslint-disable-next-line no-console
  console.log(`FLEET ${scenario} ${JSON.stringify(figures)}`);
};

run('model releases on a fleet behind HAProxy, repository on s3rver', () => {
  let modelStore: Awaited<ReturnType<typeof startModelStore>>;
  let tmp: string;
  let s3: S3Shard;
  let fleet: Fleet;
  let repo: string;

  const models = async (...args: string[]) => {
    let out = '';
    const code = await modelsCommand([...args, '--model-repository', repo], process.env, { write: (s: string) => (out += s) }, { write: (s: string) => (out += s) });
    if (code !== 0) throw new Error(`onnx-fleet models ${args.join(' ')}: exit ${code}\n${out}`);
    return out;
  };
  const index = async (url: string) => (await (await fetch(`${url}/v2/repository/index`, { method: 'POST' })).json()) as Array<{ name: string; version?: string; state: string; reason?: string }>;

  beforeAll(async () => {
    modelStore = await startModelStore('releases');
    ({ s3, tmp } = modelStore);
    repo = `s3://models/fleet?endpoint=${s3.endpoint}`;
    const config = path.join(tmp, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 500, preferred_batch_size: [8] } }));
    await models('publish', versionDir(path.join(tmp, 'src'), 'v1', addConst(1)), '--model', 'adder', '--config', config);
    fleet = await Fleet.start({
      instances: ['a', 'b', 'c'].map((name) => ({ name, repository: repo, args: ['--model-cache-dir', path.join(tmp, `cache-${name}`)], env: S3RVER_ENV })),
      commonArgs: ['--model-control-mode', 'poll', '--repository-poll-secs', String(POLL_SECS), '--workers', '1', '--intra-op-threads', '1', '--drain-delay', '1'],
    });
    await Promise.all(fleet.instances.map((i) => fleet.waitInRotation(i.name, 30_000)));
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await modelStore?.stop();
  });

  test('publish v2, then a broken v3, then a failing canary at 10 %: 0 failed requests outside the canary budget', async () => {
    const load = new SteadyLoad(fleet.url, 'adder').start(4, 60_000);
    try {
      await load.untilVersion('1', 10_000);

      // 1. v2: every instance switches at its next poll, after loading and warming v2 beside v1.
      const published = performance.now();
      await models('publish', versionDir(path.join(tmp, 'src'), 'v2', addConst(2)), '--model', 'adder');
      const switched: Record<string, number> = {};
      while (Object.keys(switched).length < 3 && performance.now() - published < 30_000) {
        for (const o of load.outcomes) if (o.version === '2' && o.server && !(o.server in switched)) switched[o.server] = Math.round(o.receivedAt - published);
        await sleep(50);
      }
      expect(Object.keys(switched).sort()).toEqual(['a', 'b', 'c']);
      for (const ms of Object.values(switched)) expect(ms).toBeLessThan((POLL_SECS + 10) * 1000);
      const phase1 = load.outcomes.length;
      await sleep(1_000);

      // 2. A broken v3: published properly (its manifest matches its garbage), it never takes over.
      fs.mkdirSync(path.join(tmp, 'src', 'v3'), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'src', 'v3', 'model.onnx'), 'this is not an onnx model');
      await models('publish', path.join(tmp, 'src', 'v3'), '--model', 'adder');
      const reasons: string[] = [];
      for (const i of fleet.instances) {
        for (let t = 0; t < 200; t++) {
          const v3 = (await index(i.url)).find((e) => e.version === '3');
          if (v3?.state === 'UNAVAILABLE') {
            reasons.push(v3.reason ?? '');
            break;
          }
          await sleep(100);
        }
      }
      expect(reasons).toHaveLength(3);
      for (const r of reasons) expect(r).toMatch(/failed to load .*adder\/3\/model\.onnx/);
      await sleep(POLL_SECS * 2 * 1000);
      const phase2 = load.outcomes.length;

      // 3. A canary at 10 % that fails every request: routed out on every instance.
      const canaryPublished = load.outcomes.length;
      await models('publish', versionDir(path.join(tmp, 'src'), 'v4', failsAtRun()), '--model', 'adder', '--canary', '10', '--min-requests', '15', '--max-failure-rate-increase', '0.05');
      const routedOut: Record<string, number> = {};
      const t0 = performance.now();
      while (Object.keys(routedOut).length < 3 && performance.now() - t0 < 60_000) {
        for (const i of fleet.instances) {
          if (i.name in routedOut) continue;
          if (metricValue(await scrape(i.url), 'onnx_fleet_model_canary_routed_out', { model: 'adder', version: '4' }) === 1) routedOut[i.name] = Math.round(performance.now() - t0);
        }
        await sleep(100);
      }
      expect(Object.keys(routedOut).sort()).toEqual(['a', 'b', 'c']);
      const canaryWindow = load.outcomes.length - canaryPublished;
      await sleep(1_500);
      const tail = load.outcomes.length;
      await sleep(1_500);
      await models('rollback', '--model', 'adder');
      await sleep(POLL_SECS * 1000 + 500);

      const failed = load.failed();
      const canaryFailures = failed.filter((o) => o.status === 400 && /could not run/.test(o.error ?? ''));
      const budget = Math.ceil(0.1 * canaryWindow);
      report('model-release', {
        requests: load.outcomes.length,
        v2SwitchMs: switched,
        phase1Requests: phase1,
        phase2Requests: phase2 - phase1,
        brokenV3Reason: reasons[0],
        canaryRoutedOutMs: routedOut,
        canaryWindowRequests: canaryWindow,
        canaryFailures: canaryFailures.length,
        canaryBudget: budget,
        otherFailures: failed.length - canaryFailures.length,
      });
      expect(failed.filter((o) => !canaryFailures.includes(o))).toEqual([]);
      expect(canaryFailures.length).toBeLessThanOrEqual(budget);
      expect(failed.filter((o) => o.receivedAt > load.outcomes[tail].sentAt)).toEqual([]);
      expect(load.outcomes.filter((o) => o.status === 200 && o.y !== Number(o.version))).toEqual([]);
      expect(olderAfterSwitch(load.outcomes, '2')).toEqual([]);
      expect(load.outcomes.filter((o) => o.version === '3')).toEqual([]);
      expect(load.readiness.every((s) => s === 200)).toBe(true);
    } finally {
      await load.stop();
    }
  }, 240_000);
});
