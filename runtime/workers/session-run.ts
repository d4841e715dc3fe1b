/**
 * Creating a session and running it, the same way wherever it runs: in an inference worker
 * (inference-worker.ts) or on the main thread for models cheaper than a thread hop
 * (scheduling/inline-runner.ts). onnxruntime-node 1.30's `InferenceSession.run` is synchronous
 * (its promise runs the native call from a setImmediate on the calling thread), so a run on the
 * main thread holds the event loop for its duration: only µs-scale models run there.
 */
import type * as Ort from 'onnxruntime-node';
import type { RunResult, SessionSpec, WireTensor } from './messages';
import { sessionOptions } from './session-options';

export function createOrtSession(ort: typeof Ort, spec: SessionSpec): Promise<Ort.InferenceSession> {
  return ort.InferenceSession.create(spec.file, sessionOptions(spec.intraOpThreads));
}

/**
 * onnxruntime-node checks tensor data with `instanceof` the typed array classes of the realm it
 * was loaded in; data made in another realm (a vm context, as under jest) is viewed through that
 * realm's class (no copy).
 */
function inRealm(data: WireTensor['data'], realm: typeof globalThis): WireTensor['data'] {
  if (Array.isArray(data)) return data;
  const Local = (realm as unknown as Record<string, unknown>)[data.constructor.name] as (new (b: ArrayBufferLike, o: number, n: number) => typeof data) | undefined;
  if (!Local || data instanceof (Local as unknown as typeof Float32Array)) return data;
  return new Local(data.buffer, data.byteOffset, data.length);
}

/** One session.run on wire tensors; computeUs is the time inside session.run. */
export async function runSession(ort: typeof Ort, session: Ort.InferenceSession, inputs: WireTensor[], outputNames?: string[], realm: typeof globalThis = globalThis): Promise<RunResult> {
  const feeds: Record<string, Ort.Tensor> = {};
  for (const t of inputs) feeds[t.name] = new ort.Tensor(t.type as Ort.Tensor.Type, inRealm(t.data, realm) as Ort.Tensor.DataType, t.dims);
  const started = process.hrtime.bigint();
  const results = outputNames ? await session.run(feeds, outputNames) : await session.run(feeds);
  const computeUs = Number(process.hrtime.bigint() - started) / 1000;
  const outputs: WireTensor[] = [];
  for (const name in results) {
    const tensor = results[name] as Ort.Tensor;
    outputs.push({ name, type: tensor.type, dims: [...tensor.dims], data: tensor.data as WireTensor['data'] });
  }
  for (const name in feeds) feeds[name].dispose();
  return { outputs, computeUs };
}

/**
 * Median session.run time of `feeds` over `ms` of wall time (one warm run first, at least 3 timed
 * runs). A run slower than `enoughAboveUs` (the warm one included) ends it with its own time, so
 * a model that takes seconds per inference is not run four times to learn that it is slow.
 */
export async function medianRunUs(ort: typeof Ort, session: Ort.InferenceSession, feeds: WireTensor[], ms: number, enoughAboveUs = Infinity): Promise<number> {
  const warm = (await runSession(ort, session, feeds)).computeUs;
  if (warm > enoughAboveUs) return warm;
  const times: number[] = [];
  const until = performance.now() + ms;
  while (times.length < 3 || (performance.now() < until && times.length < 1000)) {
    const runUs = (await runSession(ort, session, feeds)).computeUs;
    if (runUs > enoughAboveUs) return runUs;
    times.push(runUs);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
