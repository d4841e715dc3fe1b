/**
 * The onnxruntime session options of every served model version, in one place so that tests can
 * open an in-process session exactly as the workers do and compare outputs float for float.
 */
import type { InferenceSession } from 'onnxruntime-node';

export function sessionOptions(intraOpThreads: number): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Fatal only: onnxruntime's own stderr lines would otherwise report every automatic warmup
    // candidate that a model refuses; each real failure reaches the runtime's log as an error.
    logSeverityLevel: 4,
  };
}
