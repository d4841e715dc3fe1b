/**
 * runtime/models/onnx-graph.ts against onnx-proto's full decoder, on every fixture and example model.
 */
import fs from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { readOnnxGraph } from '../../runtime/models/onnx-graph';
import { EXAMPLES, FIXTURES } from '../helpers/runtime';

const files = [EXAMPLES, FIXTURES].flatMap((repo) =>
  fs.readdirSync(repo).flatMap((m) => (fs.statSync(path.join(repo, m)).isDirectory() ? fs.readdirSync(path.join(repo, m)).filter((v) => /^\d+$/.test(v)).map((v) => path.join(repo, m, v, 'model.onnx')) : [])),
);
const valid = files.filter((f) => {
  try {
    return onnx.ModelProto.decode(fs.readFileSync(f)).graph != null;
  } catch {
    return false;
  }
});

test.each(valid.map((f) => [path.relative(path.join(FIXTURES, '..'), f), f]))('%s: IR version, opsets, inputs, outputs and initializers as onnx-proto decodes them', (_rel, file) => {
  const proto = onnx.ModelProto.decode(fs.readFileSync(file));
  const info = readOnnxGraph(file);
  const graph = proto.graph!;
  const inits = new Set(graph.initializer!.map((t) => t.name));
  expect(info.irVersion).toBe(Number(proto.irVersion));
  expect([...info.opsets]).toEqual(proto.opsetImport!.map((o) => [o.domain ?? '', Number(o.version)]));
  expect(info.inputs.map((i) => i.name)).toEqual(graph.input!.filter((i) => !inits.has(i.name!)).map((i) => i.name));
  expect(info.defaultedInputs).toEqual(graph.input!.filter((i) => inits.has(i.name!)).map((i) => i.name));
  expect(info.outputs.map((o) => [o.name, o.isTensor])).toEqual(graph.output!.map((o) => [o.name, o.type?.tensorType != null]));
});

test('types in ONNX notation, defaulted inputs and external data files', () => {
  const zipmap = readOnnxGraph(path.join(FIXTURES, 'zipmap_classifier', '1', 'model.onnx'));
  expect(zipmap.outputs).toEqual([
    { name: 'label', type: 'tensor(int64)', isTensor: true },
    { name: 'output_probability', type: 'seq(map(int64,tensor(float)))', isTensor: false },
  ]);
  expect(readOnnxGraph(path.join(FIXTURES, 'defaulted_input', '1', 'model.onnx')).defaultedInputs).toEqual(['scale']);
  expect([...readOnnxGraph(path.join(FIXTURES, 'external_data', '1', 'model.onnx')).externalData]).toEqual([['weights.bin', ['w']]]);
  expect(() => readOnnxGraph(path.join(FIXTURES, 'broken', '1', 'model.onnx'))).toThrow();
});
