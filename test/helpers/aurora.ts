/**
 * A local stand-in for the platform's Aurora PostgreSQL cluster, built from real PostgreSQL 15:
 * what the capture failover test relies on, simulated from Aurora's documented behaviour.
 *
 * - Commit semantics. Aurora acknowledges a commit once 4 of the cluster volume's 6 copies (2 in
 *   each of 3 zones) hold its log records, and a reader promoted by a failover reads that same
 *   volume (Aurora User Guide, "Amazon Aurora storage", "High availability for Amazon Aurora"):
 *   every acknowledged commit is on the new writer. Stand-in: the writer streams WAL to the reader
 *   with synchronous_commit = on and the reader as synchronous standby, so a commit is acknowledged
 *   only once the reader — the instance a failover promotes — has flushed it to its disk.
 * - Endpoints. The cluster endpoint is a DNS name that follows the writer through a failover, the
 *   reader endpoint one that leads to the readers, or to the writer when there are none left
 *   ("Amazon Aurora endpoint connections"). Stand-in: two TCP forwarders on loopback; the cluster
 *   endpoint is repointed to the promoted instance, and drops the connections it held, as the old
 *   writer's do when Aurora fences it.
 * - Failover. The writer crashes; Aurora promotes a reader (FailoverDBCluster). Stand-in: the
 *   writer is stopped with `-m immediate` (no shutdown checkpoint) and the reader promoted.
 *
 * Not simulated: the 6-way storage itself, reader lag on a shared volume, the old writer coming
 * back as a reader, DNS caching (the runtime re-checks `pg_is_in_recovery()` on every connection).
 */
import net from 'node:net';
import { PgCluster, PgNode, freePort, startPgCluster } from './postgres';

/** A loopback TCP forwarder standing in for an Aurora DNS endpoint. */
export class Endpoint {
  private target: PgNode;
  private readonly sockets = new Set<net.Socket>();
  /** host:port of every instance this endpoint led a connection to, in order, without repeats. */
  readonly served: string[] = [];

  private constructor(private readonly server: net.Server, readonly port: number, target: PgNode) {
    this.target = target;
  }

  static async open(target: PgNode): Promise<Endpoint> {
    const port = await freePort();
    let endpoint!: Endpoint;
    const server = net.createServer((client) => endpoint.forward(client));
    endpoint = new Endpoint(server, port, target);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return endpoint;
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Leads new connections to `target` and drops the ones held (the old instance is fenced). */
  repoint(target: PgNode): void {
    this.target = target;
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: net.Socket): void {
    const target = this.target;
    if (this.served[this.served.length - 1] !== target.hostPort) this.served.push(target.hostPort);
    const upstream = net.connect(target.port, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

export interface AuroraStandIn {
  pg: PgCluster;
  writer: PgNode;
  reader: PgNode;
  clusterEndpoint: Endpoint;
  readerEndpoint: Endpoint;
  /** What the platform hands the runtime: one host each, the endpoints (infra/aws/user-data.ts). */
  writerUrl: string;
  readerUrl: string;
  /** The writer crashes (no shutdown checkpoint): the cluster endpoint leads nowhere until a promotion. */
  crashWriter(): void;
  /** Aurora's failover: the reader becomes the writer, the cluster endpoint follows it. */
  promoteReader(): void;
  stop(): Promise<void>;
}

export async function startAuroraStandIn(): Promise<AuroraStandIn> {
  const pg = await startPgCluster({ replica: true, synchronous: true });
  const writer = pg.primary;
  const reader = pg.replica;
  const [clusterEndpoint, readerEndpoint] = await Promise.all([Endpoint.open(writer), Endpoint.open(reader)]);
  const url = (e: Endpoint) => `postgresql://postgres@${e.hostPort}/postgres`;
  return {
    pg,
    writer,
    reader,
    clusterEndpoint,
    readerEndpoint,
    writerUrl: url(clusterEndpoint),
    readerUrl: url(readerEndpoint),
    crashWriter() {
      writer.stop('immediate');
    },
    promoteReader() {
      reader.promote();
      clusterEndpoint.repoint(reader);
    },
    async stop() {
      await Promise.all([clusterEndpoint.close(), readerEndpoint.close()]);
      pg.stop();
    },
  };
}
