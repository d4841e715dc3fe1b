/**
 * The physical limit: onnxruntime-node running the model in-process with no HTTP, no queue and no
 * copies beyond the input tensor, for each sessions × intra-op threads layout (one session per
 * worker thread, all running at once) and batch size. The best cell is the peak.
 *
 *   node dist/bench/in-process.js --model file.onnx --input x --shape 1,3,48,192 \
 *        [--layouts 2x1,1x2] [--batches 1,4,8,16] [--seconds 2]
 * Prints one JSON line: { cells: [{ sessions, threads, batch, inferencesPerSecond }], best }.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

interface WorkerInit {
  file: string;
  input: string;
  shape: number[];
  threads: number;
}

type ToWorker = { op: 'measure'; batch: number; from: number; until: number };
type FromWorker = { op: 'ready' } | { op: 'measured'; runs: number; elapsedMs: number };

export interface InProcessCell {
  sessions: number;
  threads: number;
  batch: number;
  inferencesPerSecond: number;
  /** CPU time of the whole process (all sessions' threads) per inference while measuring, ms. */
  cpuMsPerInference: number;
}

export interface InProcessResult {
  cells: InProcessCell[];
  best: InProcessCell;
}

function inputFor(init: WorkerInit, batch: number): ort.Tensor {
  const shape = [batch, ...init.shape.slice(1)];
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 256) / 127.5 - 1;
  return new ort.Tensor('float32', data, shape);
}

async function workerMain(): Promise<void> {
  const init = workerData as WorkerInit;
  const session = await ort.InferenceSession.create(init.file, { intraOpNumThreads: init.threads, interOpNumThreads: 1 });
  parentPort!.on('message', async (msg: ToWorker) => {
    const feeds = { [init.input]: inputFor(init, msg.batch) };
    while (Date.now() < msg.from) await session.run(feeds);
    const start = performance.now();
    let runs = 0;
    while (Date.now() < msg.until) {
      await session.run(feeds);
      runs++;
    }
    parentPort!.postMessage({ op: 'measured', runs, elapsedMs: performance.now() - start } satisfies FromWorker);
  });
  parentPort!.postMessage({ op: 'ready' } satisfies FromWorker);
}

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return process.argv[i + 1];
}

async function measureLayout(init: Omit<WorkerInit, 'threads'>, sessions: number, threads: number, batches: number[], seconds: number): Promise<InProcessCell[]> {
  const workers = Array.from({ length: sessions }, () => new Worker(__filename, { workerData: { ...init, threads } }));
  const next = (w: Worker) => new Promise<FromWorker>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await Promise.all(workers.map(next));
  const cells: InProcessCell[] = [];
  for (const batch of batches) {
    // Everyone warms up, then measures over the same wall-clock window; the process's CPU time
    // (every thread) is read at the window's edges.
    const from = Date.now() + 300;
    const until = from + 100 + seconds * 1000;
    const replies = workers.map(next);
    for (const w of workers) w.postMessage({ op: 'measure', batch, from, until } satisfies ToWorker);
    await new Promise((r) => setTimeout(r, Math.max(0, from - Date.now())));
    const cpu0 = process.cpuUsage();
    const results = (await Promise.all(replies)) as Array<Extract<FromWorker, { op: 'measured' }>>;
    const cpu = process.cpuUsage(cpu0);
    const perSecond = results.reduce((sum, r) => sum + (r.runs * batch * 1000) / r.elapsedMs, 0);
    const inferences = results.reduce((sum, r) => sum + r.runs * batch, 0);
    cells.push({ sessions, threads, batch, inferencesPerSecond: Math.round(perSecond), cpuMsPerInference: Math.round(((cpu.user + cpu.system) / 1000 / inferences) * 1000) / 1000 });
  }
  await Promise.all(workers.map((w) => w.terminate()));
  return cells;
}

async function main(): Promise<void> {
  const init = { file: arg('model'), input: arg('input'), shape: arg('shape').split(',').map(Number) };
  const layouts = arg('layouts', '2x1,1x2').split(',').map((l) => l.split('x').map(Number) as [number, number]);
  const batches = arg('batches', '1,4,8,16').split(',').map(Number);
  const seconds = Number(arg('seconds', '2'));
  const cells: InProcessCell[] = [];
  for (const [sessions, threads] of layouts) cells.push(...(await measureLayout(init, sessions, threads, batches, seconds)));
  const best = cells.reduce((a, b) => (b.inferencesPerSecond > a.inferencesPerSecond ? b : a));
  process.stdout.write(JSON.stringify({ cells, best } satisfies InProcessResult) + '\n');
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
    process.exit(1);
  });
} else {
  void workerMain();
}
