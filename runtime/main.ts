/**
 * The `onnx-fleet` command line: `serve` runs the runtime; `synth` prints a stack's resource
 * graph offline (infra/). Exit codes: 0 ok, 1 runtime failure, 2 invalid usage or configuration.
 */
import { ConfigError, loadRuntimeConfig, usage } from './config';

const HELP = `onnx-fleet — serve ONNX models over the Open Inference Protocol, and deploy them.

Commands:
  serve   run the inference runtime        onnx-fleet serve --model-repository <dir> [--port 8080]
  synth   print a stack's resource graph   onnx-fleet synth --stack <name> [--config-file <path>] [--json]
  bundle  build the instance artifact      onnx-fleet bundle [--arch x64|arm64]
  captures query captured records          onnx-fleet captures list --model <name> --since 1h [--database-reader-urls …]

Run "onnx-fleet serve --help" for the runtime's options.`;

async function serve(argv: string[]): Promise<number> {
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

/** Tooling commands live outside the runtime bundle an instance runs; say so instead of crashing. */
async function tooling<T>(command: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw err;
    process.stderr.write(`onnx-fleet: '${command}' is not part of the runtime bundle; run it from the onnx-fleet repository (npx onnx-fleet ${command})\n`);
    return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'synth':
      return (await tooling<typeof import('../infra/synth')>('synth', () => import('../infra/synth')))?.synthCommand(rest) ?? 2;
    case 'captures':
      return (await import('./capture/captures-command')).capturesCommand(rest);
    case 'bundle':
      return (await tooling<typeof import('../packaging/build')>('bundle', () => import('../packaging/build')))?.bundleCommand(rest) ?? 2;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP + '\n');
      return command === undefined ? 2 : 0;
    case '--version':
    case 'version':
      process.stdout.write((await import('./version')).VERSION + '\n');
      return 0;
    default:
      process.stderr.write(`onnx-fleet: unknown command ${JSON.stringify(command)}\n\n${HELP}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`onnx-fleet: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
