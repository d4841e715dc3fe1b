/**
 * A model version run on the main thread, without the hop to an inference worker. For µs-scale
 * models the hop (structured clone of inputs and outputs, postMessage both ways, piscina's
 * bookkeeping) costs more main-thread time than the inference itself. session.run is synchronous
 * in onnxruntime-node 1.30 (it runs from a setImmediate), so each execution holds the event loop
 * for its duration: the model manager puts a model here only when its execution at the largest
 * batch it can receive was measured below INLINE_MAX_RUN_US (or config.json asks for it), and one
 * execution runs at a time, so I/O is polled between executions.
 */
import vm from 'node:vm';
import type * as Ort from 'onnxruntime-node';
import type { RunResult, SessionSpec, WireTensor } from '../workers/messages';
import { createOrtSession, runSession } from '../workers/session-run';
import type { Runner } from './runners';

/**
 * Measured execution time (µs, at the largest batch a request can bring) below which a model runs
 * on the main thread by default: about the main-thread cost of one worker round trip on the
 * bench's machine (see the README's Performance section). Holding the event loop this long per
 * execution keeps health probes far inside their 20 ms target.
 */
export const INLINE_MAX_RUN_US = 100;

/**
 * The process's main realm. onnxruntime-node's addon makes output typed arrays there, and its
 * Tensor class accepts only its own realm's: so it is loaded in the main realm even when this
 * module runs in a vm context (as under jest), and inputs are viewed through that realm's classes.
 */
const MAIN_REALM = vm.runInThisContext('globalThis') as typeof globalThis;

function mainRealmOrt(): typeof Ort {
  const nodeModule = MAIN_REALM.process.getBuiltinModule('node:module') as typeof import('node:module');
  return nodeModule.createRequire(__filename)('onnxruntime-node') as typeof Ort;
}

export class InlineRunner implements Runner {
  readonly thread = 'main';
  private running = false;

  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
  ) {}

  /** Creates the session on the main thread (onnxruntime-node is loaded here only when a model runs inline). */
  static async create(spec: SessionSpec): Promise<InlineRunner> {
    const ort = mainRealmOrt();
    return new InlineRunner(ort, await createOrtSession(ort, spec));
  }

  hasCapacity(): boolean {
    return !this.running;
  }

  async run(inputs: WireTensor[]): Promise<RunResult> {
    this.running = true;
    try {
      return await runSession(this.ort, this.session, inputs, undefined, MAIN_REALM);
    } finally {
      this.running = false;
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
