/**
 * Body of an inference worker thread (run by piscina). Holds one onnxruntime session per model
 * version; `InferenceSession.run` is synchronous in onnxruntime-node 1.30, which is why it runs
 * here and not on the main thread. A restarted worker re-creates sessions on first use.
 */
import * as ort from 'onnxruntime-node';
import type { CalibrateResult, CalibrateTask, LoadResult, RunResult, SessionSpec, WireTensor, WorkerTask } from './messages';
import { tileFeeds } from '../scheduling/batch-calibration';
import { sessionOptions } from './session-options';

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function createSession(spec: SessionSpec): Promise<ort.InferenceSession> {
  let session = sessions.get(spec.key);
  if (!session) {
    session = ort.InferenceSession.create(spec.file, sessionOptions(spec.intraOpThreads));
    // A failed load is not cached, so a later attempt (e.g. after a fix on disk) can succeed.
    session.catch(() => sessions.delete(spec.key));
    sessions.set(spec.key, session);
  }
  return session;
}

function toOrt(t: WireTensor): ort.Tensor {
  return new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.dims);
}

async function run(session: ort.InferenceSession, inputs: WireTensor[], outputNames?: string[]): Promise<RunResult> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of inputs) feeds[t.name] = toOrt(t);
  const started = process.hrtime.bigint();
  const results = outputNames ? await session.run(feeds, outputNames) : await session.run(feeds);
  const computeUs = Number(process.hrtime.bigint() - started) / 1000;
  const outputs: WireTensor[] = [];
  for (const [name, value] of Object.entries(results)) {
    const tensor = value as ort.Tensor;
    outputs.push({ name, type: tensor.type, dims: [...tensor.dims], data: tensor.data as WireTensor['data'] });
  }
  for (const t of Object.values(feeds)) t.dispose();
  return { outputs, computeUs };
}

function metadata(list: readonly ort.InferenceSession.ValueMetadata[]): LoadResult['inputs'] {
  return list.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));
}

/** Median session.run time per batch size (one warm run first at each size). */
async function calibrate(task: CalibrateTask): Promise<CalibrateResult> {
  const session = await createSession(task);
  const runs: CalibrateResult['runs'] = [];
  for (const batch of task.sizes) {
    const feeds = tileFeeds(task.feeds, batch);
    await run(session, feeds);
    const times: number[] = [];
    const until = performance.now() + task.msPerSize;
    while (times.length < 3 || (performance.now() < until && times.length < 1000)) times.push((await run(session, feeds)).computeUs);
    times.sort((a, b) => a - b);
    runs.push({ batch, runUs: times[Math.floor(times.length / 2)] });
  }
  return { runs };
}

export default async function handle(task: WorkerTask): Promise<LoadResult | RunResult | CalibrateResult | null> {
  switch (task.op) {
    case 'load': {
      const t0 = performance.now();
      const session = await createSession(task);
      const t1 = performance.now();
      if (task.warmup) await run(session, task.warmup);
      const t2 = performance.now();
      return { inputs: metadata(session.inputMetadata), outputs: metadata(session.outputMetadata), loadMs: t1 - t0, warmupMs: t2 - t1 };
    }
    case 'run':
      return run(await createSession(task), task.inputs, task.outputs);
    case 'calibrate':
      return calibrate(task);
    case 'unload': {
      const session = sessions.get(task.key);
      sessions.delete(task.key);
      if (session) await (await session).release();
      return null;
    }
  }
}
