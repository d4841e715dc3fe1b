/**
 * Body of an inference worker thread (run by piscina). Holds one onnxruntime session per model
 * version; `InferenceSession.run` is synchronous in onnxruntime-node 1.30, which is why it runs
 * here and not on the main thread (but for models cheaper than the hop: see inline-runner.ts).
 * A restarted worker re-creates sessions on first use.
 */
import * as ort from 'onnxruntime-node';
import type { LoadResult, RunResult, SessionSpec, TimeResult, WireTensor, WorkerTask } from './messages';
import { createOrtSession, medianRunUs, runSession } from './session-run';
import { lowerWorkerPriority } from './priority';

// Before any session exists: onnxruntime's own threads inherit this thread's priority.
lowerWorkerPriority();

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function createSession(spec: SessionSpec): Promise<ort.InferenceSession> {
  let session = sessions.get(spec.key);
  if (!session) {
    session = createOrtSession(ort, spec);
    // A failed load is not cached, so a later attempt (e.g. after a fix on disk) can succeed.
    session.catch(() => sessions.delete(spec.key));
    sessions.set(spec.key, session);
  }
  return session;
}

function run(session: ort.InferenceSession, inputs: WireTensor[], outputNames?: string[]): Promise<RunResult> {
  return runSession(ort, session, inputs, outputNames);
}

function metadata(list: readonly ort.InferenceSession.ValueMetadata[]): LoadResult['inputs'] {
  return list.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));
}

type Result = LoadResult | RunResult | TimeResult | null;

/**
 * The pool posts the next task while one runs (worker-pool.ts), so tasks are chained here: each
 * starts when the previous one has finished, and a run's computeUs never includes a run ahead of it.
 */
let previous: Promise<unknown> = Promise.resolve();

export default function handle(task: WorkerTask): Promise<Result> {
  const next = previous.then(() => perform(task));
  previous = next.catch(() => undefined);
  return next;
}

async function perform(task: WorkerTask): Promise<Result> {
  switch (task.op) {
    case 'load': {
      const t0 = performance.now();
      const session = await createSession(task);
      const t1 = performance.now();
      let warmupError: string | undefined;
      if (task.warmup) {
        try {
          await run(session, task.warmup);
        } catch (err) {
          if (!task.trial) throw err;
          warmupError = err instanceof Error ? err.message : String(err);
        }
      }
      const t2 = performance.now();
      return { inputs: metadata(session.inputMetadata), outputs: metadata(session.outputMetadata), loadMs: t1 - t0, warmupMs: t2 - t1, ...(warmupError === undefined ? {} : { warmupError }) };
    }
    case 'run':
      return run(await createSession(task), task.inputs, task.outputs);
    case 'time':
      return { runUs: await medianRunUs(ort, await createSession(task), task.feeds, task.ms, task.enoughAboveUs) };
    case 'unload': {
      const session = sessions.get(task.key);
      sessions.delete(task.key);
      if (session) await (await session).release();
      return null;
    }
  }
}
