/**
 * µs-scale models run on the main thread, without the hop to an inference worker (issue 15):
 * parameters.execution_thread in config.json (Triton's backend parameters map) says where a
 * model's executions run; auto (the default) measures the execution at the largest batch a
 * request can bring and runs it on the main thread below INLINE_MAX_RUN_US. Results are the same
 * wherever the model runs; dynamic batching, model swaps and drain keep working.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelConfigError, parseModelConfig } from '../../runtime/models/model-config';
import { INLINE_MAX_RUN_US } from '../../runtime/scheduling/inline-runner';
import type { Runtime } from '../../runtime/server';
import { copyModel, EXAMPLES, modelParameters, startTestRuntime } from '../helpers/runtime';

jest.setTimeout(180_000);

describe('parameters.execution_thread in config.json', () => {
  test('auto by default; main or worker when set; anything else names the key and the allowed values', () => {
    expect(parseModelConfig('{}').executionThread).toBe('auto');
    expect(parseModelConfig('{"parameters": {"execution_thread": {"string_value": "main"}}}').executionThread).toBe('main');
    expect(parseModelConfig('{"parameters": {"execution_thread": {"string_value": "worker"}}}').executionThread).toBe('worker');
    expect(() => parseModelConfig('{"parameters": {"execution_thread": {"string_value": "gpu"}}}')).toThrow(/parameters\.execution_thread: got \{"string_value":"gpu"\}, expected \{"string_value": "auto" \| "main" \| "worker"\}/);
    expect(() => parseModelConfig('{"parameters": {"execution_thread": "main"}}')).toThrow(ModelConfigError);
    expect(() => parseModelConfig('{"parameters": {"threads": {"string_value": "2"}}}')).toThrow(/parameters: unknown key "threads"; allowed keys: execution_thread/);
    expect(() => parseModelConfig('{"parameters": {"execution_thread": {"string_value": "main"}}, "instance_group": [{"count": 2}]}')).toThrow(/runs one instance, on the main thread, but instance_group asks for 2/);
  });
});

describe('where executions run', () => {
  let repo: string;
  let rt: Runtime;
  const add = (name: string, source: string, extra: object) => copyModel(repo, name, path.join(EXAMPLES, source), extra);
  beforeAll(async () => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-execution-thread-'));
    // A queue delay, so that requests arriving together form batches on the main thread too.
    const batching = { dynamic_batching: { max_queue_delay_microseconds: 20_000, preferred_batch_size: [8, 16], default_queue_policy: { max_queue_size: 512 } } };
    add('iris', 'iris', batching);
    add('iris_worker', 'iris', { ...batching, parameters: { execution_thread: { string_value: 'worker' } } });
    add('cnn', 'text-orientation', {});
    rt = await startTestRuntime(repo, ['--model-control-mode', 'explicit']); // 2 workers
    expect(rt.models.allReady).toBe(true);
  });
  afterAll(async () => {
    await rt.stop({ skipDrain: AbortSignal.abort() });
    fs.rmSync(repo, { recursive: true, force: true });
  });

  const metadata = (model: string) => modelParameters(rt.url, model);
  const infer = (model: string, rows: number[][]) =>
    fetch(`${rt.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }] }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { outputs: Array<{ name: string; data: number[] }>; error?: string } }));
  const rows = (i: number) => [[4 + (i % 4), 2 + (i % 3) * 0.5, 1 + (i % 5), 0.2 + (i % 3) * 0.9]];

  test('auto: the µs-scale model runs on the main thread, measured below the threshold; the CNN, measured above it, stays on its workers', async () => {
    const iris = await metadata('iris');
    expect(iris.execution_thread).toBe('main');
    expect(iris.execution_thread_source).toBe('measured');
    expect(Number(iris.execution_run_us)).toBeLessThanOrEqual(INLINE_MAX_RUN_US);
    expect(iris.instance_count).toBe(1);
    const cnn = await metadata('cnn');
    expect(cnn.execution_thread).toBe('worker');
    expect(cnn.execution_thread_source).toBe('measured');
    expect(Number(cnn.execution_run_us)).toBeGreaterThan(INLINE_MAX_RUN_US);
    expect(cnn.instance_count).toBe(2);
    const worker = await metadata('iris_worker');
    expect(worker.execution_thread).toBe('worker');
    expect(worker.execution_thread_source).toBe('config');
  });

  test('concurrent requests are batched on the main thread and answered exactly as on the workers', async () => {
    const n = 48;
    const [inline, onWorkers] = await Promise.all([
      Promise.all(Array.from({ length: n }, (_, i) => infer('iris', rows(i)))),
      Promise.all(Array.from({ length: n }, (_, i) => infer('iris_worker', rows(i)))),
    ]);
    expect(inline.map((r) => r.status)).toEqual(Array(n).fill(200));
    expect(inline.map((r) => r.body.outputs)).toEqual(onWorkers.map((r) => r.body.outputs));
    const metrics = await (await fetch(`${rt.url}/metrics`)).text();
    const count = (name: string) => Number(new RegExp(`${name}\\{model="iris",version="1"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(count('nv_inference_count')).toBeGreaterThanOrEqual(n);
    // Batched: fewer executions than requests (48 arrived together).
    expect(count('nv_inference_exec_count')).toBeLessThan(count('nv_inference_count'));
  });

  test('a config change swaps the main-thread version make-before-break: every request during the swap is answered, then the new config serves', async () => {
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      for (let i = 0; !stop; i++) statuses.push((await infer('iris', rows(i))).status);
    })();
    const config = JSON.parse(fs.readFileSync(path.join(repo, 'iris', 'config.json'), 'utf8'));
    const loaded = await rt.models.load('iris', JSON.stringify({ ...config, parameters: { execution_thread: { string_value: 'worker' } } }));
    expect(loaded.problem).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await traffic;
    await rt.models.settled();
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect((await metadata('iris')).execution_thread).toBe('worker');
    const back = await rt.models.load('iris', JSON.stringify({ ...config, parameters: { execution_thread: { string_value: 'main' } } }));
    expect(back.problem).toBeUndefined();
    const meta = await metadata('iris');
    expect(meta.execution_thread).toBe('main');
    expect(meta.execution_thread_source).toBe('config');
    expect((await infer('iris', rows(1))).status).toBe(200);
  });
});
