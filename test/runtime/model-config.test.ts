import { parseModelConfig, selectVersions } from '../../runtime/models/model-config';

describe('config.json', () => {
  test('Triton-style keys with defaults', () => {
    const c = parseModelConfig('{"max_batch_size": 16, "dynamic_batching": {"max_queue_delay_microseconds": 2000, "preferred_batch_size": [16, 8], "default_queue_policy": {"max_queue_size": 256, "default_timeout_microseconds": 0}}}');
    expect(c.maxBatchSize).toBe(16);
    expect(c.versionPolicy).toEqual({ latest: { num_versions: 1 } });
    expect(c.dynamicBatching).toEqual({ maxQueueDelayMicroseconds: 2000, preferredBatchSizes: [8, 16], queuePolicy: { maxQueueSize: 256, defaultTimeoutMicroseconds: 0, allowTimeoutOverride: true } });
    expect(c.queuePolicy.maxQueueSize).toBe(256);
  });

  test.each([
    ['{"max_batch_size": -1}', 'max_batch_size: got -1, expected an integer from 0 to 1048576'],
    ['{"max_batchsize": 4}', 'config.json: unknown key "max_batchsize"; allowed keys:'],
    ['{"version_policy": {"newest": 1}}', 'version_policy: got {"newest":1}, expected'],
    ['{"dynamic_batching": {}}', 'dynamic_batching: needs max_batch_size ≥ 1 (got 0)'],
    ['{"warmup": "yes"}', 'warmup: got "yes", expected true, false, {"shape"'],
    ['{"max_batch_size": 4, "dynamic_batching": {"preferred_batch_size": [8]}}', 'dynamic_batching.preferred_batch_size[0]: got 8, expected an integer from 1 to 4'],
    ['not json', 'not valid JSON'],
  ])('%s → %s', (text, message) => {
    expect(() => parseModelConfig(text)).toThrow(message);
  });

  test('version policies select from the versions on disk', () => {
    expect(selectVersions({ latest: { num_versions: 2 } }, [1, 3, 2])).toEqual([3, 2]);
    expect(selectVersions({ all: {} }, [1, 3, 2])).toEqual([3, 2, 1]);
    expect(selectVersions({ specific: { versions: [1, 5] } }, [1, 3, 2])).toEqual([1]);
  });
});
