/**
 * Open Inference Protocol conformance over real HTTP against a real runtime (real onnxruntime
 * in worker threads), serving the test fixture repository and the example models.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Runtime } from '../../runtime/server';
import { model, node, valueInfo } from '../../scripts/onnx-builder';
import { EXAMPLES, FIXTURES, startTestRuntime } from '../helpers/runtime';
import { examplesWithZoo } from '../helpers/zoo';

let fixtures: Runtime;
let examples: Runtime;
let healthyRepo: string;

/** A repository with only loadable fixtures (the fixture repository also holds broken models on purpose). */
function copyHealthyFixtures(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-healthy-'));
  for (const name of ['multi_input', 'fixed_batch1']) fs.cpSync(path.join(FIXTURES, name), path.join(dir, name), { recursive: true });
  return dir;
}

let examplesRepo: string;

beforeAll(async () => {
  fixtures = await startTestRuntime(FIXTURES);
  // The example models with the real-model zoo beside them (but its heaviest model, see
  // examplesWithZoo): the protocol holds with both served.
  examplesRepo = examplesWithZoo();
  examples = await startTestRuntime(examplesRepo);
  healthyRepo = copyHealthyFixtures();
}, 600_000);

afterAll(async () => {
  await fixtures?.stop();
  await examples?.stop();
  fs.rmSync(healthyRepo, { recursive: true, force: true });
  fs.rmSync(examplesRepo, { recursive: true, force: true });
});

async function get(rt: Runtime, p: string) {
  const res = await fetch(rt.url + p);
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function post(rt: Runtime, p: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(rt.url + p, { method: 'POST', headers, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });
  const text = Buffer.from(await res.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(text.toString());
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body: json, raw: text };
}

describe('server endpoints', () => {
  test('GET /v2 names the server and advertises the binary tensor extension', async () => {
    const { status, body } = await get(examples, '/v2');
    expect(status).toBe(200);
    expect(body.name).toBe('onnx-fleet');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.extensions).toContain('binary_tensor_data');
  });

  test('live and ready answer 200 when every model is loaded and warmed', async () => {
    expect((await get(examples, '/v2/health/live')).status).toBe(200);
    const ready = await get(examples, '/v2/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ready: true });
  });

  test('a repository with a model that has no loadable version is live but never ready, and says why', async () => {
    expect((await get(fixtures, '/v2/health/live')).status).toBe(200);
    const ready = await get(fixtures, '/v2/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.ready).toBe(false);
    expect(ready.body.reason).toMatch(/broken\/1: failed to load .*broken\/1\/model\.onnx/);
    // Models with one broken version and another READY one are served, so they are not a reason.
    expect(ready.body.reason).not.toMatch(/failing_version|broken_newest/);
  });

  test('a broken version does not hold readiness back when another version of its model is READY', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-degraded-'));
    for (const name of ['multi_input', 'failing_version', 'broken_newest']) fs.cpSync(path.join(FIXTURES, name), path.join(dir, name), { recursive: true });
    const rt = await startTestRuntime(dir);
    try {
      expect(await get(rt, '/v2/health/ready')).toMatchObject({ status: 200, body: { ready: true } });
    } finally {
      await rt.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unknown routes answer 404 with the protocol error body', async () => {
    const res = await get(examples, '/v2/nothing');
    expect(res.status).toBe(404);
    expect(res.body.error).toMatch(/no route GET \/v2\/nothing/);
  });

  test('responses carry a request id, echoing a valid x-request-id', async () => {
    const res = await fetch(examples.url + '/v2', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });
});

describe('model metadata and readiness', () => {
  test('metadata comes from the ONNX model, with -1 for dynamic dimensions', async () => {
    const { status, body } = await get(examples, '/v2/models/iris');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      name: 'iris',
      versions: ['1'],
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
    });
    expect(body.outputs).toEqual(
      expect.arrayContaining([
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ]),
    );
  });

  test('per-version metadata and readiness', async () => {
    expect((await get(fixtures, '/v2/models/versioned/versions/2')).body.versions).toEqual(['2']);
    expect((await get(fixtures, '/v2/models/versioned')).body.versions).toEqual(['3', '2', '1']);
    expect(await get(fixtures, '/v2/models/versioned/versions/1/ready')).toMatchObject({ status: 200, body: { name: 'versioned', ready: true } });
    expect((await get(fixtures, '/v2/models/iris/ready')).status).toBe(404);
  });

  test('unknown model and version are 404 naming what exists', async () => {
    const model = await get(fixtures, '/v2/models/nope');
    expect(model.status).toBe(404);
    expect(model.body.error).toMatch(/unknown model 'nope'; this server serves .*'multi_input'/);
    const version = await get(fixtures, '/v2/models/versioned/versions/9');
    expect(version.status).toBe(404);
    expect(version.body.error).toBe("unknown version '9' of model 'versioned'; versions served: 3, 2, 1");
  });

  test('a model that failed to load is not ready (503) and its metadata says why', async () => {
    const ready = await get(fixtures, '/v2/models/broken/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ name: 'broken', ready: false });
    expect(ready.body.reason).toMatch(/failed to load/);
    const meta = await get(fixtures, '/v2/models/broken');
    expect(meta.status).toBe(503);
    expect(meta.body.error).toMatch(/model 'broken' has no ready version \(version 1: failed to load/);
  });

  test('latest policy: a newest version that fails to load gives its place to the next older one', async () => {
    expect(await get(fixtures, '/v2/models/broken_newest/ready')).toMatchObject({ status: 200, body: { ready: true } });
    expect((await get(fixtures, '/v2/models/broken_newest')).body.versions).toEqual(['2']);
    const v3 = await get(fixtures, '/v2/models/broken_newest/versions/3/ready');
    expect(v3.status).toBe(503);
    expect(v3.body.reason).toMatch(/version 3 is not ready: failed to load .*broken_newest\/3\/model\.onnx/);
    const index = (await post(fixtures, '/v2/repository/index', '')).body.filter((e: any) => e.name === 'broken_newest');
    expect(index).toEqual([
      { name: 'broken_newest', version: '3', state: 'UNAVAILABLE', reason: expect.stringMatching(/failed to load/) },
      { name: 'broken_newest', version: '2', state: 'READY' },
    ]);
    const res = await post(fixtures, '/v2/models/broken_newest/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model_version: '2', outputs: [{ name: 'y', data: [3] }] });
  });

  test('outputs that are not tensors (scikit-learn ZipMap) are refused at load, naming the output and the fix', async () => {
    const ready = await get(fixtures, '/v2/models/zipmap_classifier/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/output 'output_probability' is seq\(map\(int64,tensor\(float\)\)\): onnxruntime-node can only pass tensors/);
    expect(ready.body.reason).toMatch(/"zipmap": False/);
  });

  test('an operator this onnxruntime lacks: its message, the model\'s opsets and the runtime\'s version', async () => {
    const ready = await get(fixtures, '/v2/models/unknown_op/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/com\.example\.custom:FrobnicateTensor\(-1\) is not a registered function\/op/);
    expect(ready.body.reason).toMatch(/\(model: IR version 8, opsets ai\.onnx 17, com\.example\.custom 1; runtime: onnxruntime-node \d+\.\d+\.\d+\)/);
  });

  test('external data files beside model.onnx load; a missing one is named', async () => {
    const res = await post(fixtures, '/v2/models/external_data/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 1, 1, 1] }] });
    expect(res.status).toBe(200);
    expect(res.body.outputs[0].data).toEqual([2, 3, 4, 5]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-external-'));
    fs.mkdirSync(path.join(dir, 'external_data', '1'), { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'external_data', '1', 'model.onnx'), path.join(dir, 'external_data', '1', 'model.onnx'));
    const rt = await startTestRuntime(dir);
    try {
      const ready = await get(rt, '/v2/models/external_data/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.reason).toMatch(/external data file "weights\.bin" \(initializer 'w'\) is missing beside model\.onnx/);
    } finally {
      await rt.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a graph input with an initializer is not offered, and a request that supplies it gets a 400 naming it', async () => {
    const meta = await get(fixtures, '/v2/models/defaulted_input');
    expect(meta.body.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]);
    const ok = await post(fixtures, '/v2/models/defaulted_input/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });
    expect(ok.body.outputs[0].data).toEqual([2, 4]);
    const res = await post(fixtures, '/v2/models/defaulted_input/infer', {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] },
        { name: 'scale', datatype: 'FP32', shape: [], data: [5] },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^input 'scale' has a fixed default value in the model \(an initializer\) that onnxruntime-node does not let a request override/);
  });

  test('one failing version leaves the model\'s other versions serving', async () => {
    expect((await get(fixtures, '/v2/models/failing_version/versions/1/ready')).status).toBe(200);
    expect((await get(fixtures, '/v2/models/failing_version/versions/2/ready')).status).toBe(503);
    const index = await post(fixtures, '/v2/repository/index', '');
    expect(index.body).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'failing_version', version: '2', state: 'UNAVAILABLE' })]));
    const res = await post(fixtures, '/v2/models/failing_version/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });
    expect(res.status).toBe(200);
    expect(res.body.model_version).toBe('1');
  });
});

describe('inference', () => {
  test('iris classifies a setosa sample, echoes id, nested data accepted', async () => {
    const res = await post(examples, '/v2/models/iris/infer', {
      id: 'req-1',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] }],
    });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe('req-1');
    expect(res.body.model_name).toBe('iris');
    expect(res.body.model_version).toBe('1');
    const label = res.body.outputs.find((o: any) => o.name === 'label');
    expect(label).toMatchObject({ datatype: 'INT64', shape: [2] });
    expect(label.data.map(Number)).toEqual([0, 2]);
    const probs = res.body.outputs.find((o: any) => o.name === 'probabilities');
    expect(probs.shape).toEqual([2, 3]);
    expect(probs.data.slice(0, 3).reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
  });

  test('the outputs filter returns only the requested outputs', async () => {
    const res = await post(examples, '/v2/models/iris/infer', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }],
      outputs: [{ name: 'label' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.outputs.map((o: any) => o.name)).toEqual(['label']);
  });

  test('models with several inputs', async () => {
    const res = await post(fixtures, '/v2/models/multi_input/infer', {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
        { name: 'b', datatype: 'FP32', shape: [1, 3], data: [4, 5, 6] },
      ],
    });
    expect(res.status).toBe(200);
    const out = Object.fromEntries(res.body.outputs.map((o: any) => [o.name, o.data]));
    expect(out.sum).toEqual([5, 7, 9]);
    expect(out.product).toEqual([4, 10, 18]);
  });

  test('an int64 scalar input', async () => {
    const res = await post(fixtures, '/v2/models/scalar_int64/infer', {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1.5, -2] },
        { name: 'k', datatype: 'INT64', shape: [], data: [3] },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.outputs[0]).toMatchObject({ name: 'y', shape: [1, 2], data: [4.5, -6] });
  });

  test('dynamic dimensions accept any sizes of the declared rank', async () => {
    for (const shape of [[1, 1, 1], [2, 3, 4], [1, 5, 2]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const res = await post(fixtures, '/v2/models/dynamic/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape, data: Array.from({ length: n }, (_, i) => i) }] });
      expect(res.status).toBe(200);
      const out = Object.fromEntries(res.body.outputs.map((o: any) => [o.name, o]));
      expect(out.y.shape).toEqual(shape);
      expect(out.y.data).toEqual(Array.from({ length: n }, (_, i) => i * 2));
      expect(out.shape.data.map(Number)).toEqual(shape);
    }
  });

  test('a fixed batch of 1 works, and any other batch is a 400 naming the dimension', async () => {
    const ok = await post(fixtures, '/v2/models/fixed_batch1/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    expect(ok.status).toBe(200);
    expect(ok.body.outputs[0].data).toEqual([2, 3, 4, 5]);
    const bad = await post(fixtures, '/v2/models/fixed_batch1/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/input 'x'.*\[2,4\].*\[1,4\]/);
  });

  test('versions are addressed explicitly and the newest serves by default', async () => {
    const input = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [10] }] };
    for (const v of [1, 2, 3]) {
      const res = await post(fixtures, `/v2/models/versioned/versions/${v}/infer`, input);
      expect(res.body.outputs[0].data).toEqual([10 + v]);
      expect(res.body.model_version).toBe(String(v));
    }
    expect((await post(fixtures, '/v2/models/versioned/infer', input)).body.outputs[0].data).toEqual([13]);
  });

  test('the heavy example model (text orientation) runs at 1x3x48x192', async () => {
    const n = 3 * 48 * 192;
    const res = await post(examples, '/v2/models/text-orientation/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], data: new Array(n).fill(0.5) }] });
    expect(res.status).toBe(200);
    expect(res.body.outputs[0].shape).toEqual([1, 2]);
    expect(res.body.outputs[0].data[0] + res.body.outputs[0].data[1]).toBeCloseTo(1, 4);
  });
});

describe('bad input is a 400 that never reaches onnxruntime', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['malformed JSON', '{"inputs": [', /JSON/i],
    ['unknown input', { inputs: [{ name: 'nope', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }, /nope/],
    ['missing input', { inputs: [] }, /features/],
    ['wrong datatype', { inputs: [{ name: 'features', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] }] }, /features.*FP32.*INT32/],
    ['wrong rank', { inputs: [{ name: 'features', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] }, /features/],
    ['fixed dimension mismatch', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }] }, /features.*\[1,5\]/],
    ['data shorter than shape', { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4] }] }, /features.*8.*4/],
    ['non-numeric value', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 'x', 3, 4] }] }, /features/],
    ['unknown output', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }], outputs: [{ name: 'nope' }] }, /nope/],
    ['batch over max_batch_size', { inputs: [{ name: 'features', datatype: 'FP32', shape: [65, 4], data: new Array(260).fill(1) }] }, /65.*64|64.*65/],
    ['bad timeout parameter', { parameters: { timeout: -5 }, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }, /timeout/],
  ];
  test.each(cases)('%s', async (_name, body, message) => {
    const res = await post(examples, '/v2/models/iris/infer', body as any);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(res.body.error).toMatch(message);
  });

  test('a malformed binary header length is a 400', async () => {
    const res = await post(examples, '/v2/models/iris/infer', Buffer.from('{"inputs":[]}'), { 'content-type': 'application/octet-stream', 'inference-header-content-length': '999' });
    expect(res.status).toBe(400);
  });

  test('a body over --max-body-bytes is a 413 with the protocol body', async () => {
    const small = await startTestRuntime(EXAMPLES, ['--max-body-bytes', '2048']);
    try {
      const res = await post(small, '/v2/models/iris/infer', { inputs: [{ name: 'features', datatype: 'FP32', shape: [200, 4], data: new Array(800).fill(1.2345) }] });
      expect(res.status).toBe(413);
      expect(res.body.error).toMatch(/larger than the server's limit of 2048 bytes/);
    } finally {
      await small.stop();
    }
  });

  test('inference on an unknown model is 404', async () => {
    const res = await post(examples, '/v2/models/nope/infer', { inputs: [] });
    expect(res.status).toBe(404);
  });
});

describe('metrics', () => {
  test('Triton-named counters per model and version, plus process metrics', async () => {
    await post(examples, '/v2/models/iris/infer', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
    await post(examples, '/v2/models/iris/infer', { inputs: [] });
    const res = await fetch(examples.url + '/metrics');
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/nv_inference_request_success\{model="iris",version="1"\} [1-9]/);
    expect(text).toMatch(/nv_inference_request_failure\{model="iris",version="1",reason="OTHER"\} [1-9]/);
    expect(text).toMatch(/nv_inference_count\{model="iris",version="1"\} [1-9]/);
    expect(text).toMatch(/nv_inference_exec_count\{model="iris",version="1"\} [1-9]/);
    expect(text).toMatch(/nv_inference_pending_request_count\{model="iris",version="1"\} 0/);
    for (const name of ['nv_inference_request_duration_us', 'nv_inference_queue_duration_us', 'nv_inference_compute_infer_duration_us', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(text).toContain(name);
    }
  });
});

describe('readiness of a healthy fixture repository', () => {
  test('ready once loaded', async () => {
    const rt = await startTestRuntime(healthyRepo);
    try {
      expect((await get(rt, '/v2/health/ready')).status).toBe(200);
    } finally {
      await rt.stop();
    }
  });

  /**
   * y = -x, stamped with an ai.onnx opset. Opset 99 is newer than any onnxruntime build has (this
   * one stops at the opset its own message names), so loading it fails in onnxruntime itself.
   */
  const negate = (opset: number) => model({ name: 'negate', opset, inputs: [valueInfo('x', 'float', ['batch', 2])], outputs: [valueInfo('y', 'float', ['batch', 2])], nodes: [node('Neg', ['x'], ['y'])] });
  const FUTURE_OPSET = 99;
  const ORT_VERSION = (JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
  const opsetReason = (version: number) =>
    new RegExp(`version ${version} is not ready: failed to load [\\s\\S]*Opset ${FUTURE_OPSET} is under development[\\s\\S]*Current official support for domain ai\\.onnx is till opset \\d+[\\s\\S]*\\(model: IR version 8, opsets ai\\.onnx ${FUTURE_OPSET}; runtime: onnxruntime-node ${ORT_VERSION.replace(/\./g, '\\.')}\\)`);

  function repositoryWith(models: Record<string, Record<number, Buffer>>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-opset-'));
    fs.cpSync(healthyRepo, dir, { recursive: true });
    for (const [name, versions] of Object.entries(models)) {
      for (const [v, bytes] of Object.entries(versions)) {
        fs.mkdirSync(path.join(dir, name, v), { recursive: true });
        fs.writeFileSync(path.join(dir, name, v, 'model.onnx'), bytes);
      }
    }
    return dir;
  }

  test('a new version stamped with an opset this onnxruntime lacks is UNAVAILABLE (its message, the model\'s opset, the runtime\'s version); the older version serves and the server is ready', async () => {
    const dir = repositoryWith({ negate: { 1: negate(17), 2: negate(FUTURE_OPSET) } });
    const rt = await startTestRuntime(dir);
    try {
      expect((await get(rt, '/v2/health/ready')).status).toBe(200);
      const v2 = await get(rt, '/v2/models/negate/versions/2/ready');
      expect(v2.status).toBe(503);
      expect(v2.body.reason).toMatch(opsetReason(2));
      const index = (await post(rt, '/v2/repository/index', '')).body.filter((e: any) => e.name === 'negate');
      expect(index).toEqual([
        { name: 'negate', version: '2', state: 'UNAVAILABLE', reason: expect.stringMatching(/Opset 99 is under development/) },
        { name: 'negate', version: '1', state: 'READY' },
      ]);
      const res = await post(rt, '/v2/models/negate/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, -2] }] });
      expect(res.body).toMatchObject({ model_version: '1', outputs: [{ name: 'y', data: [-1, 2] }] });
      expect((await post(rt, '/v2/models/multi_input/infer', { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, { name: 'b', datatype: 'FP32', shape: [1, 3], data: [1, 1, 1] }] })).status).toBe(200);
    } finally {
      await rt.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a model whose only version needs that opset: not ready, saying why, while the other models still answer', async () => {
    const dir = repositoryWith({ negate: { 1: negate(FUTURE_OPSET) } });
    const rt = await startTestRuntime(dir);
    try {
      const ready = await get(rt, '/v2/health/ready');
      expect(ready.status).toBe(503);
      const model = await get(rt, '/v2/models/negate/ready');
      expect(model.status).toBe(503);
      expect((await get(rt, '/v2/models/negate/versions/1/ready')).body.reason).toMatch(opsetReason(1));
      expect((await get(rt, '/v2/models/multi_input/ready')).status).toBe(200);
      expect((await post(rt, '/v2/models/multi_input/infer', { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, { name: 'b', datatype: 'FP32', shape: [1, 3], data: [1, 1, 1] }] })).body.outputs[0].data).toEqual([2, 3, 4]);
    } finally {
      await rt.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
