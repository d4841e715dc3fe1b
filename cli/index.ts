/**
 * The `onnx-fleet` command line: one dispatcher, and nothing else. Each command lives with the
 * part it drives (serve → runtime/, synth → infra/, bundle → packaging/, captures →
 * runtime/capture/, models → runtime/models/) and is loaded only when it runs, so `serve` never loads Pulumi.
 *
 * The instance bundle (packaging/build.ts) compiles this file with infra/ and packaging/ left
 * out: a tooling command run from a bundle says where to run it instead of crashing.
 * Exit codes: 0 ok, 1 failure while running, 2 invalid usage or configuration.
 */

type Run = (argv: string[]) => Promise<number>;

interface Command {
  /** One line for the help screen: what it does, then how it is called. */
  summary: string;
  example: string;
  /** Tooling commands are not in the instance bundle (infra/, packaging/). */
  tooling: boolean;
  load: () => Promise<Run>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the inference runtime',
    example: 'onnx-fleet serve --model-repository <dir> [--port 8080]',
    tooling: false,
    load: async () => (await import('../runtime/main')).serveCommand,
  },
  synth: {
    summary: "print a stack's resource graph",
    example: 'onnx-fleet synth --stack <name> [--config-file <path>] [--json]',
    tooling: true,
    load: async () => (await import('../infra/synth')).synthCommand,
  },
  bundle: {
    summary: 'build the instance artifact',
    example: 'onnx-fleet bundle [--arch x64|arm64]',
    tooling: true,
    load: async () => (await import('../packaging/build')).bundleCommand,
  },
  plan: {
    summary: "measure one instance's capacity at an SLO",
    example: 'onnx-fleet plan --model-repository <dir> --slo-p99-ms <ms> [--stack <name>] [--base-rps <n> --peak-rps <n>]',
    tooling: true,
    load: async () => (await import('../infra/scaling/plan-command')).planCommand,
  },
  simulate: {
    summary: "replay a traffic trace through a stack's scaling",
    example: 'onnx-fleet simulate --stack <name> [--trace burst|diurnal|flash|<file.csv>] [--out <dir>]',
    tooling: true,
    load: async () => (await import('../infra/scaling/simulate-command')).simulateCommand,
  },
  captures: {
    summary: 'query captured records',
    example: 'onnx-fleet captures list --model <name> --since 1h [--database-reader-urls …]',
    tooling: false,
    load: async () => {
      const { capturesCommand } = await import('../runtime/capture/captures-command');
      return (argv) => capturesCommand(argv);
    },
  },
  models: {
    summary: 'publish, canary, promote, roll back',
    example: 'onnx-fleet models publish <dir> --model <name> --model-repository s3://bucket/prefix',
    tooling: false,
    load: async () => {
      const { modelsCommand } = await import('../runtime/models/models-command');
      return (argv) => modelsCommand(argv);
    },
  },
};

function help(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const summaryWidth = Math.max(...names.map((n) => COMMANDS[n].summary.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary.padEnd(summaryWidth)}  ${COMMANDS[n].example}`);
  return `onnx-fleet — serve ONNX models over the Open Inference Protocol, and deploy them.

Commands:
${lines.join('\n')}

Run "onnx-fleet <command> --help" for a command's options.`;
}

const isMissingModule = (err: unknown) => ['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND'].includes((err as NodeJS.ErrnoException)?.code ?? '');

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  switch (name) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(help() + '\n');
      return name === undefined ? 2 : 0;
    case 'version':
    case '--version':
      process.stdout.write((await import('../runtime/version')).VERSION + '\n');
      return 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`onnx-fleet: unknown command ${JSON.stringify(name)}\n\n${help()}\n`);
    return 2;
  }
  let run: Run;
  try {
    run = await command.load();
  } catch (err) {
    if (!command.tooling || !isMissingModule(err)) throw err;
    process.stderr.write(`onnx-fleet: '${name}' is not part of the runtime bundle; run it from the onnx-fleet repository (npx onnx-fleet ${name})\n`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`onnx-fleet: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
