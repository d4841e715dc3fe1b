/**
 * Load-time checks that turn surprises at request time into clear reasons at load: outputs that
 * are not tensors, external data files that are missing, and load failures (a missing operator,
 * an opset this build lacks) told with the model's opsets and the runtime's version.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WireValueMetadata } from '../workers/messages';
import { describeOpsets, OnnxGraphInfo } from './onnx-graph';

/** The onnxruntime-node version the workers run. */
export const ONNXRUNTIME_VERSION: string = (require('onnxruntime-node/package.json') as { version: string }).version;

/** Every external data file the initializers name must be beside model.onnx. */
export function checkExternalData(graph: OnnxGraphInfo | undefined, modelFile: string): void {
  if (!graph) return;
  const dir = path.dirname(modelFile);
  for (const [location, tensors] of graph.externalData) {
    const file = path.resolve(dir, location);
    if (!file.startsWith(dir + path.sep)) throw new Error(`initializer '${tensors[0]}' keeps its data in ${JSON.stringify(location)}, outside the version directory ${dir}; external data files must sit beside model.onnx`);
    if (!fs.existsSync(file)) {
      throw new Error(`external data file ${JSON.stringify(location)} (initializer${tensors.length > 1 ? 's' : ''} ${tensors.slice(0, 3).map((t) => `'${t}'`).join(', ')}${tensors.length > 3 ? ', …' : ''}) is missing beside model.onnx in ${dir}; copy the whole version directory, model.onnx with its data files`);
    }
  }
}

/**
 * Inputs and outputs that are not tensors (sequences, maps, optionals) cannot cross
 * onnxruntime-node's API; refuse them at load, naming each and the usual fix.
 */
export function checkTensorsOnly(inputs: WireValueMetadata[], outputs: WireValueMetadata[], graph: OnnxGraphInfo | undefined): void {
  const typeOf = (role: 'input' | 'output', name: string) => (role === 'input' ? graph?.inputs : graph?.outputs)?.find((v) => v.name === name)?.type ?? 'not a tensor';
  const bad = [
    ...inputs.filter((m) => !m.isTensor).map((m) => ({ role: 'input' as const, name: m.name })),
    ...outputs.filter((m) => !m.isTensor).map((m) => ({ role: 'output' as const, name: m.name })),
  ];
  if (bad.length === 0) return;
  const listed = bad.map((b) => `${b.role} '${b.name}' is ${typeOf(b.role, b.name)}`).join('; ');
  const zipmap = bad.some((b) => b.role === 'output' && /^seq\(map\(/.test(typeOf(b.role, b.name)));
  throw new Error(
    `${listed}: onnxruntime-node can only pass tensors, so this model cannot be served. ` +
      (zipmap
        ? 'A sequence of maps is what scikit-learn classifiers give when converted with ZipMap: convert again with zipmap disabled (skl2onnx: options={id(model): {"zipmap": False}}) to get a probabilities tensor.'
        : 'Export the model again with tensor inputs and outputs only.'),
  );
}

/** A load failure with the facts needed to act on it. */
export function describeLoadFailure(err: unknown, graph: OnnxGraphInfo | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  const model = graph ? `IR version ${graph.irVersion}, opsets ${describeOpsets(graph.opsets)}` : 'not readable as an ONNX protobuf';
  return `${message} (model: ${model}; runtime: onnxruntime-node ${ONNXRUNTIME_VERSION})`;
}
