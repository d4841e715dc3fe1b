/**
 * `onnx-fleet serve`: parses the runtime's options, starts it and stops it on SIGTERM/SIGINT
 * (a second signal skips the rest of the drain delay). Dispatched by cli/index.ts.
 * Exit codes: 0 clean stop, 1 failure to start or an unclean stop, 2 invalid configuration.
 */
import { ConfigError, loadRuntimeConfig, usage } from './config';
import { missingServeFlags } from './node-flags';

export async function serveCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  let config;
  try {
    config = loadRuntimeConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`onnx-fleet serve: ${err.message}\n\n${usage()}\n`);
      return 2;
    }
    throw err;
  }
  const { startRuntime, createLogger } = await import('./server');
  const logger = createLogger(config.logLevel);
  const missing = missingServeFlags();
  if (missing.length > 0) {
    logger.warn({ missing }, `node was started without ${missing.join(' ')}: under load V8 may then run a full GC every ~100 ms, or garbage stay after a burst (runtime/node-flags.ts); start the runtime with bin/onnx-fleet, or pass them to node before the script`);
  }
  let runtime;
  try {
    runtime = await startRuntime(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    return 1;
  }
  const { stop } = runtime;
  return new Promise<number>((resolve) => {
    const skipDrain = new AbortController();
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal (e.g. a second Ctrl-C) skips what is left of the drain delay.
        logger.warn({ signal }, 'second signal: skipping the rest of the drain delay');
        skipDrain.abort();
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stop requested');
      stop({ skipDrain: skipDrain.signal }).then(
        (clean) => resolve(clean ? 0 : 1),
        (err) => {
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
