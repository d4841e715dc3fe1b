/**
 * Unloading returns the memory: a child runtime (the compiled CLI) in explicit mode loads a
 * version whose 100 MB weight grows RSS by well over 100 MB, unloads it through the repository
 * API, and its RSS (Linux /proc) comes back within 10 % of what it was before the load.
 * Also: the memory check refuses a version that would not fit, with the reason, and what serves keeps serving.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { addConst, largeWeights, versionDir } from '../helpers/release-models';
import { ChildRuntime, spawnRuntime, waitFor, isReady } from '../helpers/runtime';
import { MemoryCheck } from '../../runtime/models/memory-check';
import { ModelManager } from '../../runtime/models/model-manager';
import { RuntimeMetrics } from '../../runtime/metrics';
import { WorkerPool } from '../../runtime/workers/worker-pool';

let tmp: string;
let child: ChildRuntime | undefined;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-unload-'));
});

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const MiB = (n: number) => Math.round(n / 1024 / 1024);

/** RSS once it stops moving (median of a few reads 200 ms apart). */
async function settledRss(pid: number): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(rssOf(pid));
    await new Promise((r) => setTimeout(r, 200));
  }
  return reads.sort((a, b) => a - b)[2];
}

test('unloading a version that grew RSS by ≥ 100 MB brings RSS back within 10 %', async () => {
  const repo = path.join(tmp, 'repo');
  versionDir(path.join(repo, 'small'), '1', addConst(1));
  child = await spawnRuntime(['--model-repository', repo, '--port', '0', '--workers', '2', '--intra-op-threads', '1', '--model-control-mode', 'explicit']);
  await waitFor(() => isReady(child!.url), 30_000);
  const pid = child.proc.pid!;
  const before = await settledRss(pid);
  versionDir(path.join(repo, 'large'), '1', largeWeights());
  const post = (p: string) => fetch(`${child!.url}/v2/repository/models/${p}`, { method: 'POST' });
  expect((await post('large/load')).status).toBe(200);
  const loaded = await settledRss(pid);
  expect(loaded - before).toBeGreaterThanOrEqual(100 * 1024 * 1024);
  expect((await post('large/unload')).status).toBe(200);
  await waitFor(async () => {
    const index = (await (await fetch(`${child!.url}/v2/repository/index`, { method: 'POST' })).json()) as Array<{ name: string; state: string }>;
    return index.some((e) => e.name === 'large' && e.state === 'UNAVAILABLE');
  }, 10_000);
  let after = await settledRss(pid);
  for (let i = 0; i < 20 && Math.abs(after - before) > before * 0.1; i++) after = await settledRss(pid);
  // eslint-disable-next-line no-console
  console.log(`RELEASES unload-rss ${JSON.stringify({ beforeMiB: MiB(before), loadedMiB: MiB(loaded), afterUnloadMiB: MiB(after) })}`);
  expect(Math.abs(after - before)).toBeLessThanOrEqual(before * 0.1);
  expect(await isReady(child.url)).toBe(true);
}, 120_000);

test('the memory check refuses a version that does not fit beside the one serving, and says why', async () => {
  const root = path.join(tmp, 'fake-root');
  fs.mkdirSync(path.join(root, 'sys/fs/cgroup'), { recursive: true });
  const setCgroup = (maxMiB: number, curMiB: number) => {
    fs.writeFileSync(path.join(root, 'sys/fs/cgroup/memory.max'), `${maxMiB * 1024 * 1024}\n`);
    fs.writeFileSync(path.join(root, 'sys/fs/cgroup/memory.current'), `${curMiB * 1024 * 1024}\n`);
  };
  setCgroup(4096, 512);
  const memory = new MemoryCheck(root);
  expect(memory.room()).toEqual({ bytes: 3584 * 1024 * 1024, source: 'cgroup memory.max 4096 MiB, memory.current 512 MiB' });
  const repo = path.join(tmp, 'mem-repo');
  versionDir(path.join(repo, 'adder'), '1', addConst(1));
  const pool = new WorkerPool({ workers: 1 });
  const manager = new ModelManager({ repository: repo, pool, metrics: new RuntimeMetrics(), logger: pino({ level: 'silent' }), intraOpThreads: 1, memory });
  try {
    await manager.loadAll();
    expect(manager.version('adder').version).toBe(1);
    // Version 2 is 100 MB: with 2× growth per worker it needs ~200 MB; the cgroup has 150 MB left.
    versionDir(path.join(repo, 'adder'), '2', largeWeights());
    setCgroup(4096, 4096 - 150);
    await manager.refresh();
    const v2 = manager.model('adder').versions.find((v) => v.version === 2)!;
    expect(v2.state).toBe('UNAVAILABLE');
    expect(v2.reason).toMatch(/^not loaded: not enough memory to load it beside the versions in use: needs about 191 MiB \(95 MiB of files × 1 workers × 2× \(no load measured yet\)\) plus 64 MiB headroom, but only 150 MiB is free \(cgroup memory.max 4096 MiB, memory.current 3946 MiB\)/);
    expect(manager.version('adder').version).toBe(1);
    expect(manager.allReady).toBe(true);
    // Not retried while its files are unchanged, even once memory is free; a change to them retries it.
    setCgroup(4096, 512);
    await manager.refresh();
    expect(manager.version('adder').version).toBe(1);
    fs.utimesSync(path.join(repo, 'adder', '2', 'model.onnx'), new Date(), new Date(Date.now() + 1000));
    await manager.refresh();
    expect(manager.version('adder').version).toBe(2);
    await manager.settled();
    expect(manager.model('adder').versions.map((v) => [v.version, v.state])).toEqual([[2, 'READY']]);
  } finally {
    manager.close();
    await pool.close();
  }
}, 120_000);
