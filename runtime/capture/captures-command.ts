/**
 * `onnx-fleet captures list|usage`: queries the capture index on a replica (falling back to the
 * primary when no replica answers). Exit codes: 0 ok, 1 no database answered, 2 invalid usage.
 */
import { ENV } from '../contract';
import { IndexReader, IndexRow } from './index-store';
import { parsePostgresUrl, splitUrlList } from './pg-url';
import { parseTime } from './time-window';

export const CAPTURES_USAGE = `Usage:
  onnx-fleet captures list  --model <name> [--since 1h|<ISO time>] [--until <time>] [--limit 100] [--json]
  onnx-fleet captures usage [--model <name>] [--json]

Database options (each also read from the environment variable in brackets):
  --database-reader-urls  comma-separated replica URLs, tried in order [${ENV.databaseReaderUrls}]
  --database-writer-url   the primary, used when no replica answers [${ENV.databaseWriterUrl}]`;

const FLAGS = ['model', 'since', 'until', 'limit', 'json', 'database-reader-urls', 'database-writer-url'] as const;
type Flag = (typeof FLAGS)[number];

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Map<Flag, string> {
  const out = new Map<Flag, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq) as Flag;
    if (!FLAGS.includes(name)) throw new UsageError(`unknown option --${name}; known options: ${FLAGS.map((f) => `--${f}`).join(', ')}`);
    if (name === 'json') {
      out.set(name, 'true');
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name}: missing value`);
    out.set(name, value);
  }
  return out;
}

function table(rows: IndexRow[]): string {
  const head = ['captured_at', 'id', 'version', 'status', 'latency_ms', 'shard', 'object_key'];
  const body = rows.map((r) => [r.capturedAt.toISOString(), r.id, r.modelVersion, String(r.status), (r.latencyUs / 1000).toFixed(2), r.shard, r.objectKey]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export async function capturesCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, out = process.stdout, err = process.stderr): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help')) {
    out.write(CAPTURES_USAGE + '\n');
    return sub === undefined ? 2 : 0;
  }
  let reader: IndexReader;
  let flags: Map<Flag, string>;
  try {
    if (sub !== 'list' && sub !== 'usage') throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
    flags = parseArgs(rest);
    const readers = splitUrlList(flags.get('database-reader-urls') ?? env[ENV.databaseReaderUrls] ?? '');
    const writer = flags.get('database-writer-url') ?? (env[ENV.databaseWriterUrl] || undefined);
    for (const u of [...readers, ...(writer ? [writer] : [])]) parsePostgresUrl(u);
    if (readers.length === 0 && !writer) throw new UsageError(`no database: give --database-reader-urls or --database-writer-url (or set ${ENV.databaseReaderUrls})`);
    reader = new IndexReader(readers, writer, { connectTimeoutMs: 3000, queryTimeoutMs: 30_000 });
    if (sub === 'list' && !flags.get('model')) throw new UsageError('--model is required');
  } catch (e) {
    err.write(`onnx-fleet captures: ${(e as Error).message}\n\n${CAPTURES_USAGE}\n`);
    return 2;
  }
  const json = flags.has('json');
  try {
    if (sub === 'list') {
      let since: Date;
      let until: Date | undefined;
      let limit: number;
      try {
        since = parseTime(flags.get('since') ?? '1h');
        until = flags.has('until') ? parseTime(flags.get('until')!) : undefined;
        limit = Number(flags.get('limit') ?? 100);
        if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit: got ${JSON.stringify(flags.get('limit'))}, expected a positive integer`);
      } catch (e) {
        err.write(`onnx-fleet captures: ${(e as Error).message}\n`);
        return 2;
      }
      const { rows, source } = await reader.list({ model: flags.get('model')!, since, until, limit });
      err.write(`${rows.length} record(s) from ${source}\n`);
      out.write(json ? JSON.stringify(rows, null, 2) + '\n' : rows.length ? table(rows) + '\n' : '');
    } else {
      const { rows, source } = await reader.usage(flags.get('model'));
      err.write(`${rows.length} row(s) from ${source}\n`);
      if (json) out.write(JSON.stringify(rows, null, 2) + '\n');
      else for (const r of rows) out.write(`${r.model}\t${r.modelVersion}\t${r.day}\trecords=${r.records}\terrors=${r.errors}\tmean_latency_ms=${r.records ? (r.latencyUsSum / r.records / 1000).toFixed(2) : '-'}\n`);
    }
    return 0;
  } catch (e) {
    err.write(`onnx-fleet captures: ${(e as Error).message}\n`);
    return 1;
  }
}
