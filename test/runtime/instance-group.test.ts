/**
 * Memory per model by configuration (issue 15): Triton's instance_group decides how many workers
 * load a model; by default every worker does. Metadata and metrics show each version's resident
 * size.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelConfigError, parseModelConfig } from '../../runtime/models/model-config';
import type { Runtime } from '../../runtime/server';
import { copyModel, EXAMPLES, modelParameters, startTestRuntime } from '../helpers/runtime';

jest.setTimeout(120_000);

describe('instance_group in config.json', () => {
  test('the groups\' counts add up; CPU kinds only; absent means every worker', () => {
    expect(parseModelConfig('{"instance_group": [{"count": 1, "kind": "KIND_CPU"}, {"count": 2}]}').instanceCount).toBe(3);
    expect(parseModelConfig('{}').instanceCount).toBeUndefined();
    expect(() => parseModelConfig('{"instance_group": [{"count": 1, "kind": "KIND_GPU"}]}')).toThrow(ModelConfigError);
    expect(() => parseModelConfig('{"instance_group": [{"count": 1, "kind": "KIND_GPU"}]}')).toThrow(/instance_group\[0\]\.kind: got "KIND_GPU", expected "KIND_CPU" or "KIND_AUTO"/);
    expect(() => parseModelConfig('{"instance_group": [{"count": 0}]}')).toThrow(/instance_group\[0\]\.count: got 0/);
    expect(() => parseModelConfig('{"instance_group": []}')).toThrow(/non-empty array/);
  });
});

describe('instances at load', () => {
  let repo: string;
  let rt: Runtime;
  const add = (name: string, extra: object) => copyModel(repo, name, path.join(EXAMPLES, 'iris'), extra);
  beforeAll(async () => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-instances-'));
    // On the workers: auto would run this µs-scale model on the main thread (execution-thread.test.ts).
    add('everywhere', { parameters: { execution_thread: { string_value: 'worker' } } });
    add('one_a', { instance_group: [{ count: 1, kind: 'KIND_CPU' }] });
    add('one_b', { instance_group: [{ count: 1, kind: 'KIND_CPU' }] });
    rt = await startTestRuntime(repo); // 2 workers
    expect(rt.models.allReady).toBe(true);
  });
  afterAll(async () => {
    await rt.stop({ skipDrain: AbortSignal.abort() });
    fs.rmSync(repo, { recursive: true, force: true });
  });

  const metadata = (model: string) => modelParameters(rt.url, model);

  test('by default every worker holds the model; count 1 puts it on one worker, and two such models on different workers', async () => {
    expect(rt.models.version('everywhere').workers).toBeUndefined();
    expect((await metadata('everywhere')).instance_count).toBe(2);
    const a = rt.models.version('one_a').workers!;
    const b = rt.models.version('one_b').workers!;
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a[0]).not.toBe(b[0]);
    expect((await metadata('one_a')).instance_count).toBe(1);
  });

  test('a model on one worker serves concurrent requests (batched on its worker only)', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [6.7, 3.0, 5.2, 2.3] }] });
    const results = await Promise.all(
      Array.from({ length: 24 }, () => fetch(`${rt.url}/v2/models/one_a/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as { outputs: Array<{ name: string; data: number[] }> } }))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(200));
    for (const r of results) expect(r.body.outputs.find((o) => o.name === 'label')!.data).toEqual([2]);
  });

  test('metadata and metrics show each version\'s resident size, larger for more instances', async () => {
    const everywhere = await metadata('everywhere');
    const one = await metadata('one_a');
    expect(everywhere.resident_bytes_source).toBe('estimated'); // loaded together at start
    expect(Number(everywhere.resident_bytes)).toBeGreaterThan(0);
    expect(Math.abs(Number(everywhere.resident_bytes) - 2 * Number(one.resident_bytes))).toBeLessThanOrEqual(1);
    const text = await (await fetch(`${rt.url}/metrics`)).text();
    expect(text).toMatch(new RegExp(`onnx_fleet_model_resident_bytes\\{model="one_a",version="1"\\} ${one.resident_bytes}`));
  });
});
