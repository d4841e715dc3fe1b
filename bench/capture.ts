/**
 * `npm run bench:capture`: inference latency and throughput with data capture off and on, side
 * by side, on this machine. The same onnx-fleet build serves the same models twice: once
 * without capture, once with `data_capture` at 100 % (request and response kept) journaling to
 * a local directory and flushing to local-directory shards (add --database-writer-url to index
 * into PostgreSQL as well). Off and on alternate per concurrency so both see the same machine.
 *
 *   node dist/bench/capture.js [--seconds 10] [--concurrency 1,8,32] [--models iris,text-orientation] [--sampling 100]
 *                              [--database-writer-url postgresql://…] [--out dir]
 *
 * Writes <out>/capture.{json,md} (default bench/results).
 */
import autocannon from 'autocannon';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIST, ROOT, freePort, percentile, round, sleep, spawnFleet } from './lib/common';
import { BenchModel, Payload, benchModels, binaryPayload, jsonPayload } from './lib/payloads';

interface Options {
  seconds: number;
  concurrency: number[];
  models: string[];
  databaseWriterUrl?: string;
  out: string;
  /** data_capture.sampling_percentage of the "on" server. */
  sampling: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { seconds: 10, concurrency: [1, 8, 32], models: ['iris', 'text-orientation'], out: path.join(ROOT, 'bench', 'results'), sampling: 100 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--seconds': opts.seconds = Number(v); i++; break;
      case '--concurrency': opts.concurrency = v.split(',').map(Number); i++; break;
      case '--models': opts.models = v.split(','); i++; break;
      case '--database-writer-url': opts.databaseWriterUrl = v; i++; break;
      case '--out': opts.out = path.resolve(v); i++; break;
      case '--sampling': opts.sampling = Number(v); i++; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return opts;
}

interface Cell {
  model: string;
  encoding: 'json' | 'binary';
  concurrency: number;
  capture: 'off' | 'on';
  okPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

function repository(models: BenchModel[], capture: boolean, sampling: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `onnx-fleet-bench-capture-${capture ? 'on' : 'off'}-`));
  for (const m of models) {
    fs.mkdirSync(path.join(dir, m.name, '1'), { recursive: true });
    fs.copyFileSync(m.source, path.join(dir, m.name, '1', 'model.onnx'));
    const config: Record<string, unknown> = m.sourceConfig ? JSON.parse(fs.readFileSync(m.sourceConfig, 'utf8')) : {};
    if (capture) config.data_capture = { enabled: true, sampling_percentage: sampling, capture: ['request', 'response'] };
    fs.writeFileSync(path.join(dir, m.name, 'config.json'), JSON.stringify(config, null, 2));
  }
  return dir;
}

async function measure(url: string, payload: Payload, connections: number, seconds: number): Promise<Omit<Cell, 'model' | 'encoding' | 'concurrency' | 'capture'>> {
  const latencies: number[] = [];
  let non2xx = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, method: 'POST', headers: payload.headers, body: payload.body, connections, duration: seconds, timeout: 30 }, (err: unknown, r: autocannon.Result) => (err ? reject(err) : resolve(r)));
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status === 200) latencies.push(ms);
      else non2xx++;
    });
  });
  return { okPerSecond: round(latencies.length / seconds, 1), p50Ms: round(percentile(latencies, 50), 3), p99Ms: round(percentile(latencies, 99), 3), errors: result.errors + result.timeouts, non2xx };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const models = benchModels().filter((m) => opts.models.includes(m.name) && !m.missing);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-bench-capture-'));
  const repos = { off: repository(models, false, 0), on: repository(models, true, opts.sampling) };
  const journal = path.join(work, 'journal');
  const common = ['--workers', '2', '--intra-op-threads', '1', '--log-level', 'warn', '--drain-delay', '0', '--exit-timeout', '5'];
  const cells: Cell[] = [];
  const captured: Record<string, number> = {};
  try {
    for (const m of models) {
      for (const [encoding, payload] of [['json', jsonPayload(m)], ['binary', binaryPayload(m)]] as const) {
        for (const c of opts.concurrency) {
          for (const capture of ['off', 'on'] as const) {
            const port = await freePort();
            const args = ['--model-repository', repos[capture], '--port', String(port), ...common];
            if (capture === 'on') args.push('--capture-journal-dir', journal, ...(opts.databaseWriterUrl ? ['--database-writer-url', opts.databaseWriterUrl] : []));
            const server = await spawnFleet(args, port, 120_000);
            try {
              const url = `${server.url}/v2/models/${m.name}/infer`;
              await measure(url, payload, c, 1); // warm the connections and caches
              const r = await measure(url, payload, c, opts.seconds);
              cells.push({ model: m.name, encoding, concurrency: c, capture, ...r });
              if (capture === 'on') {
                const text = await (await fetch(`${server.url}/metrics`)).text();
                for (const line of text.split('\n')) {
                  const mm = /^onnx_fleet_capture_records(_dropped)?_total\{.*\} (\d+)/.exec(line);
                  if (mm) captured[mm[1] ? 'dropped' : 'captured'] = (captured[mm[1] ? 'dropped' : 'captured'] ?? 0) + Number(mm[2]);
                }
              }
              process.stderr.write(`${m.name} ${encoding} c=${c} capture ${capture}: ${r.okPerSecond} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms\n`);
            } finally {
              await server.stop();
            }
            await sleep(500);
          }
        }
      }
    }
  } finally {
    for (const d of [work, repos.off, repos.on]) fs.rmSync(d, { recursive: true, force: true });
  }
  const rows = ['| model | encoding | concurrency | req/s off | req/s on | p50 off (ms) | p50 on (ms) | p99 off (ms) | p99 on (ms) |', '|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const off of cells.filter((x) => x.capture === 'off')) {
    const on = cells.find((x) => x.capture === 'on' && x.model === off.model && x.encoding === off.encoding && x.concurrency === off.concurrency)!;
    rows.push(`| ${off.model} | ${off.encoding} | ${off.concurrency} | ${off.okPerSecond} | ${on.okPerSecond} | ${off.p50Ms} | ${on.p50Ms} | ${off.p99Ms} | ${on.p99Ms} |`);
  }
  const md = [
    `# Data capture: off vs on (${os.cpus().length} cores, ${opts.seconds} s per cell, capture at ${opts.sampling} %, request + response, local shard${opts.databaseWriterUrl ? ', PostgreSQL index' : ''})`,
    '',
    ...rows,
    '',
    `Records captured: ${captured.captured ?? 0}, dropped: ${captured.dropped ?? 0}.`,
    '',
  ].join('\n');
  fs.mkdirSync(opts.out, { recursive: true });
  fs.writeFileSync(path.join(opts.out, 'capture.json'), JSON.stringify({ date: new Date().toISOString(), options: { ...opts, databaseWriterUrl: opts.databaseWriterUrl ? '(set)' : undefined }, cells, captured }, null, 2));
  fs.writeFileSync(path.join(opts.out, 'capture.md'), md);
  process.stdout.write(md);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
