/**
 * Batch calibration (issue 15): batch sizes chosen from measured throughput, not always the
 * largest allowed; an explicit preferred_batch_size still wins. The integration case uses a
 * fixture whose cost grows with the square of the batch, so the largest batch is several times
 * slower per inference than a small one: the choice does not hinge on timing noise.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Runtime } from '../../runtime/server';
import { calibrationSizes, chooseBatchSize, combineWorkers, tileFeeds } from '../../runtime/scheduling/batch-calibration';
import { decideBatch } from '../../runtime/scheduling/batching';
import type { Pending } from '../../runtime/scheduling/model-queue';
import { EXAMPLES, FIXTURES, modelParameters, startTestRuntime } from '../helpers/runtime';

jest.setTimeout(120_000);

describe('choosing a batch size from measurements', () => {
  test('candidates are powers of two and the maximum', () => {
    expect(calibrationSizes(16)).toEqual([1, 2, 4, 8, 16]);
    expect(calibrationSizes(12)).toEqual([1, 2, 4, 8, 12]);
    expect(calibrationSizes(1)).toEqual([1]);
  });

  test('the smallest size within 5 % of the best throughput wins', () => {
    expect(chooseBatchSize([{ batch: 1, inferencesPerSecond: 500 }, { batch: 4, inferencesPerSecond: 1370 }, { batch: 8, inferencesPerSecond: 1400 }, { batch: 16, inferencesPerSecond: 900 }])).toBe(4);
    expect(chooseBatchSize([{ batch: 1, inferencesPerSecond: 500 }, { batch: 16, inferencesPerSecond: 2000 }])).toBe(16);
    expect(() => chooseBatchSize([])).toThrow(/no batch size/);
  });

  test('workers measured at once add up; a request is tiled along the batch dimension', () => {
    expect(combineWorkers([[{ batch: 2, runUs: 1000 }], [{ batch: 2, runUs: 2000 }]])).toEqual([{ batch: 2, inferencesPerSecond: 3000 }]);
    const [t] = tileFeeds([{ name: 'x', type: 'float32', dims: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }], 3);
    expect(t.dims).toEqual([3, 2]);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 1, 2, 1, 2]);
  });

  test('a request larger than the calibrated size runs alone, never in an empty batch', () => {
    const pending = (n: number) => ({ request: { parameters: {}, inputs: [{ name: 'x', datatype: 'FP32', shape: [n, 4], data: new Float32Array(n * 4) }] }, acceptedAt: 0n, settled: false }) as unknown as Pending;
    const policy = { maxBatchSize: 4, preferredBatchSizes: [4], maxQueueDelayMicroseconds: 0, queuePolicy: { maxQueueSize: 10, defaultTimeoutMicroseconds: 0, allowTimeoutOverride: true } };
    expect(decideBatch([pending(10), pending(1)], policy, 0n)).toEqual({ run: [0] });
    expect(decideBatch([pending(2), pending(2), pending(1)], policy, 0n)).toEqual({ run: [0, 1] });
  });
});

describe('calibration at load', () => {
  let repo: string;
  let rt: Runtime;
  beforeAll(async () => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-calibration-'));
    fs.cpSync(path.join(FIXTURES, 'batch_quadratic'), path.join(repo, 'batch_quadratic'), { recursive: true });
    fs.cpSync(path.join(EXAMPLES, 'iris'), path.join(repo, 'iris'), { recursive: true });
    rt = await startTestRuntime(repo);
    expect(rt.models.allReady).toBe(true);
  });
  afterAll(async () => {
    await rt.stop({ skipDrain: AbortSignal.abort() });
    fs.rmSync(repo, { recursive: true, force: true });
  });

  const metadata = (model: string) => modelParameters(rt.url, model);

  test('on a model where the largest batch is slow, calibration picks a smaller size with higher measured throughput', async () => {
    const p = await metadata('batch_quadratic');
    expect(p.max_batch_size).toBe(64);
    expect(p.batch_size_source).toBe('calibrated');
    const measured = new Map(String(p.batch_calibration).split(',').map((kv) => kv.split(':').map(Number) as [number, number]));
    expect([...measured.keys()]).toEqual([1, 2, 4, 8, 16, 32, 64]);
    const chosen = Number(p.preferred_batch_size);
    expect(chosen).toBeLessThan(64);
    expect(measured.get(chosen)!).toBeGreaterThan(measured.get(64)!);
    // The server still accepts (and runs) a request of the full max_batch_size.
    const x = new Array(64 * 2048).fill(0.001);
    const res = await fetch(`${rt.url}/v2/models/batch_quadratic/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [64, 2048], data: x }] }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: Array<{ shape: number[] }> }).outputs[0].shape).toEqual([64, 2048]);
  });

  test('an explicit preferred_batch_size in config.json wins and is not measured', async () => {
    const p = await metadata('iris');
    expect(p.batch_size_source).toBe('config');
    expect(p.preferred_batch_size).toBe(16);
    expect(p.batch_calibration).toBeUndefined();
  });
});
