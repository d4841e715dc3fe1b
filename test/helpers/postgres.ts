/**
 * Real PostgreSQL 15 for tests: a primary and a streaming replica on loopback ports, made with
 * Debian's initdb / pg_basebackup and run as an unprivileged user (the tests may run as root,
 * which PostgreSQL refuses). Installs Debian's postgresql through scripts/ensure-system-packages.sh
 * when the binaries are missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const ROOT = path.resolve(__dirname, '..', '..');
const RUN_AS = process.env.PG_TEST_USER ?? 'postgres';

export function ensurePostgres(): void {
  if (fs.existsSync(path.join(PG_BIN, 'initdb'))) return;
  execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-system-packages.sh')], { stdio: 'inherit' });
  if (!fs.existsSync(path.join(PG_BIN, 'initdb'))) throw new Error(`PostgreSQL binaries not found in ${PG_BIN}`);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function ensureUser(): void {
  if (!isRoot()) return;
  if (spawnSync('id', ['-u', RUN_AS]).status === 0) return;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', RUN_AS]);
}

/** Runs a PostgreSQL binary as the unprivileged user (directly when the tests are not root). */
function pg(bin: string, args: string[], opts: { timeoutMs?: number } = {}): string {
  const full = path.join(PG_BIN, bin);
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', RUN_AS, '--', full, ...args]] : [full, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, cwd: os.tmpdir() });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

function chownToUser(p: string): void {
  if (isRoot()) execFileSync('chown', ['-R', `${RUN_AS}:`, p]);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class PgNode {
  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): void {
    pg('pg_ctl', ['start', '-D', this.dataDir, '-w', '-t', '60', '-l', path.join(path.dirname(this.dataDir), `${this.name}.log`)]);
  }

  /** 'immediate' is a crash (no shutdown checkpoint); 'fast' a clean stop. */
  stop(mode: 'immediate' | 'fast' = 'fast'): void {
    if (!fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) return;
    pg('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '30']);
  }

  promote(): void {
    pg('pg_ctl', ['promote', '-D', this.dataDir, '-w', '-t', '30']);
  }

  async query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: this.url, connectionTimeoutMillis: 3000 });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(path.dirname(this.dataDir), `${this.name}.log`), 'utf8');
    } catch {
      return '';
    }
  }
}

export interface PgCluster {
  base: string;
  primary: PgNode;
  replica: PgNode;
  /** libpq multi-host writer endpoint: follows a promotion (target_session_attrs=read-write). */
  writerUrl: string;
  readerUrl: string;
  stop(): void;
}

const PRIMARY_CONF = (port: number, socketDir: string) => `
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${socketDir}'
max_connections = 50
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
hot_standby = on
fsync = on
synchronous_commit = on
log_min_messages = warning
logging_collector = off
`;

/**
 * A primary and (optionally) a streaming replica. With `synchronous`, the primary waits for the
 * replica to flush every commit (what RDS Multi-AZ gives), so nothing acknowledged is lost when
 * the replica is promoted; the setting lives only in the primary's auto.conf, so the promoted
 * replica commits alone.
 */
export async function startPgCluster(options: { replica?: boolean; synchronous?: boolean } = {}): Promise<PgCluster> {
  ensurePostgres();
  ensureUser();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-pg-'));
  fs.chmodSync(base, 0o755);
  chownToUser(base);
  const primary = new PgNode('primary', path.join(base, 'primary'), await freePort());
  pg('initdb', ['-D', primary.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  fs.appendFileSync(path.join(primary.dataDir, 'postgresql.conf'), PRIMARY_CONF(primary.port, base));
  fs.appendFileSync(path.join(primary.dataDir, 'pg_hba.conf'), '\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n');
  chownToUser(base);
  primary.start();
  let replica: PgNode | undefined;
  if (options.replica !== false) {
    replica = new PgNode('replica', path.join(base, 'replica'), await freePort());
    pg('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', replica.dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
    fs.appendFileSync(path.join(replica.dataDir, 'postgresql.conf'), `\nport = ${replica.port}\n`);
    chownToUser(replica.dataDir);
    replica.start();
    // Wait until the replica streams.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rows = await primary.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'");
      if (rows[0].n > 0) break;
      if (Date.now() > deadline) throw new Error(`replica did not start streaming:\n${replica.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (options.synchronous) {
      await primary.query("ALTER SYSTEM SET synchronous_standby_names = '*'");
      await primary.query('SELECT pg_reload_conf()');
    }
  }
  const nodes = [primary, ...(replica ? [replica] : [])];
  return {
    base,
    primary,
    replica: replica ?? primary,
    writerUrl: `postgresql://postgres@${nodes.map((n) => n.hostPort).join(',')}/postgres?target_session_attrs=read-write`,
    readerUrl: (replica ?? primary).url,
    stop() {
      for (const n of nodes) {
        try {
          n.stop('immediate');
        } catch {
          /* already stopped */
        }
      }
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
