import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadRuntimeConfig } from '../../runtime/config';
import { DEFAULT_HOST, DEFAULT_PORT, DRAIN_DELAY_SECONDS, EXIT_TIMEOUT_SECONDS } from '../../runtime/contract';

const cores = os.availableParallelism();

describe('serve options', () => {
  test('defaults come from the contract and the machine', () => {
    const c = loadRuntimeConfig(['--model-repository', 'models'], {});
    expect(c).toMatchObject({ host: DEFAULT_HOST, port: DEFAULT_PORT, drainDelaySeconds: DRAIN_DELAY_SECONDS, exitTimeoutSeconds: EXIT_TIMEOUT_SECONDS, workers: cores, logLevel: 'info' });
    expect(c.workers * c.intraOpThreads).toBeLessThanOrEqual(cores);
    expect(c.modelRepository).toBe(path.resolve('models'));
  });

  test('every option is also read from ONNX_FLEET_*; flags win', () => {
    const env = { ONNX_FLEET_MODEL_REPOSITORY: '/srv/models', ONNX_FLEET_PORT: '9000', ONNX_FLEET_HOST: '0.0.0.0', ONNX_FLEET_DRAIN_DELAY_SECONDS: '20' };
    expect(loadRuntimeConfig([], env)).toMatchObject({ modelRepository: '/srv/models', port: 9000, host: '0.0.0.0', drainDelaySeconds: 20 });
    expect(loadRuntimeConfig(['--port=9100'], env).port).toBe(9100);
  });

  test.each([
    [['--port', '70000'], '--port: got "70000", expected an integer from 0 to 65535'],
    [['--workers', '0'], '--workers: got "0", expected an integer from 1 to 256'],
    [['--log-level', 'loud'], '--log-level: got "loud", expected one of fatal, error, warn, info, debug, trace, silent'],
    [['--drain-delay', '1.5'], '--drain-delay: got "1.5", expected an integer from 0 to 3600'],
    [['--port'], '--port: missing value, expected an integer from 0 to 65535'],
  ])('%j fails with %s', (args, message) => {
    expect(() => loadRuntimeConfig(['--model-repository', 'm', ...args], {})).toThrow(new ConfigError(message));
  });

  test('unknown options list the known ones; the repository is required', () => {
    expect(() => loadRuntimeConfig(['--model-repository', 'm', '--prot', '1'], {})).toThrow(/unknown option --prot; known options: --model-repository, --host, --port/);
    expect(() => loadRuntimeConfig([], {})).toThrow('--model-repository is required (or set ONNX_FLEET_MODEL_REPOSITORY)');
  });

  test('workers × intra-op threads may not exceed the cores', () => {
    expect(() => loadRuntimeConfig(['--model-repository', 'm', '--workers', String(cores), '--intra-op-threads', '2'], {})).toThrow(
      new RegExp(`--workers ${cores} × --intra-op-threads 2 = ${cores * 2} threads, more than the ${cores} cores`),
    );
  });
});
