/**
 * Admission before the body (issue 15): memory is bounded by the server's configuration, not by
 * its clients. The compiled runtime runs as a child process (its RSS is what an instance would
 * show); requests are written on raw sockets so the test controls exactly how much of a body is
 * sent, and when.
 */
import net from 'node:net';
import fs from 'node:fs';
import http from 'node:http';
import pino from 'pino';
import { EXAMPLES, ChildRuntime, spawnRuntime, waitFor } from '../helpers/runtime';
import { FrontDoor } from '../../runtime/protocol/front-door';
import { ModelQueue } from '../../runtime/scheduling/model-queue';
import { WaitEstimator } from '../../runtime/scheduling/wait-estimate';
import { buildApp } from '../../runtime/app';
import { SaturationSignal } from '../../runtime/scheduling/saturation';
import type { InferRequest } from '../../runtime/protocol/types';
import type { ModelManager } from '../../runtime/models/model-manager';
import { Lifecycle } from '../../runtime/lifecycle';
import { RuntimeMetrics } from '../../runtime/metrics';

jest.setTimeout(120_000);

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes this client had written when the response arrived. */
  sentWhenAnswered: number;
}

/** The text-orientation CNN's per-image tensor: 1×3×48×192 FP32. */
const IMAGE_BYTES = 3 * 48 * 192 * 4;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/** A raw connection to `url` for several requests in a row; `received()` is everything the server answered so far. */
async function keptConnection(url: string): Promise<{ socket: net.Socket; received: () => string }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let raw = '';
  socket.on('data', (c: Buffer) => (raw += c.toString('latin1')));
  await new Promise((r) => socket.once('connect', r));
  return { socket, received: () => raw };
}

/**
 * Sends one request: its head, then `body` parts; a part that is a number is that many bytes
 * streamed from a reused buffer (with backpressure), so a 60 MB body costs the test no memory;
 * a promise pauses the upload until it resolves; UNTIL_ANSWERED pauses it until the server's
 * first byte arrives (at most ANSWER_WAIT_MS, after which the rest is sent and the test's
 * sentWhenAnswered shows the server did not answer early).
 * Resolves with the response once it is complete (or the socket closes after it).
 */
const UNTIL_ANSWERED = Symbol('until answered');
/** Long enough for a loaded CI machine to answer a header (a fixed 300 ms was not, once). */
const ANSWER_WAIT_MS = 10_000;
function rawRequest(url: string, head: string, body: Array<Buffer | number | Promise<void> | typeof UNTIL_ANSWERED>): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const filler = Buffer.alloc(1 << 20, 0x20);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let sent = 0;
    let answeredAt: number | undefined;
    let raw = Buffer.alloc(0);
    let done = false;
    let answered!: () => void;
    const firstByte = new Promise<void>((r) => (answered = r));
    const finish = () => {
      if (done) return;
      const text = raw.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const length = Number(headers['content-length'] ?? 0);
      const bodyText = raw.subarray(end + 4).toString('utf8');
      if (Buffer.byteLength(bodyText) < length) return;
      done = true;
      socket.destroy();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: bodyText, sentWhenAnswered: answeredAt ?? sent });
    };
    socket.on('data', (c: Buffer) => {
      answeredAt ??= sent;
      answered();
      raw = Buffer.concat([raw, c]);
      finish();
    });
    socket.on('error', () => finish()); // EPIPE / ECONNRESET once the server stops reading: the answer is what counts
    socket.on('close', () => {
      finish();
      if (!done) reject(new Error(`connection closed without a complete response (${raw.length} bytes received)`));
    });
    socket.on('connect', async () => {
      socket.write(head);
      for (const part of body) {
        if (done || socket.destroyed) return;
        if (part instanceof Promise) {
          await part;
          continue;
        }
        if (part === UNTIL_ANSWERED) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([firstByte, new Promise<void>((r) => (timer = setTimeout(r, ANSWER_WAIT_MS)))]);
          clearTimeout(timer);
          continue;
        }
        if (Buffer.isBuffer(part)) {
          sent += part.length;
          if (!socket.write(part)) await new Promise((r) => socket.once('drain', r));
          continue;
        }
        let left = part;
        while (left > 0 && !done && !socket.destroyed) {
          const n = Math.min(left, filler.length);
          left -= n;
          sent += n;
          const ok = socket.write(n === filler.length ? filler : filler.subarray(0, n));
          if (!ok) await new Promise((r) => socket.once('drain', r).once('close', r));
        }
      }
    });
  });
}

function binaryHead(path: string, batch: number, bodyBytes: number, jsonLength: number): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nInference-Header-Content-Length: ${jsonLength}\r\nContent-Length: ${bodyBytes}\r\n\r\n`;
}

function cnnHeader(batch: number): Buffer {
  return Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [batch, 3, 48, 192], parameters: { binary_data_size: batch * IMAGE_BYTES } }] }));
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('a header that already fails validation is answered before the binary body', () => {
  let rt: ChildRuntime;
  beforeAll(async () => {
    rt = await spawnRuntime(['--model-repository', EXAMPLES, '--port', '0', '--workers', '1', '--intra-op-threads', '1', '--drain-delay', '0', '--log-level', 'info']);
  });
  afterAll(async () => {
    rt.proc.kill('SIGTERM');
    await rt.exited;
  });

  test('batch 540 over max_batch_size 16: 400 with nothing of the 60 MB sent, and the connection closes', async () => {
    const header = cnnHeader(540);
    const res = await rawRequest(rt.url, binaryHead('/v2/models/text-orientation/infer', 540, header.length + 540 * IMAGE_BYTES, header.length), [header]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(/batch size 540 .* exceeds the model's max_batch_size 16/);
    expect(res.headers.connection).toBe('close');
    expect(res.sentWhenAnswered).toBe(header.length);
  });

  test('an unknown input, and sizes that do not add up to the declared body, are refused the same way', async () => {
    const unknown = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 48, 192], parameters: { binary_data_size: IMAGE_BYTES } }] }));
    const a = await rawRequest(rt.url, binaryHead('/v2/models/text-orientation/infer', 1, unknown.length + IMAGE_BYTES, unknown.length), [unknown]);
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body).error).toMatch(/unknown input 'image'/);
    const header = cnnHeader(2);
    const b = await rawRequest(rt.url, binaryHead('/v2/models/text-orientation/infer', 2, header.length + 3 * IMAGE_BYTES, header.length), [header]);
    expect(b.status).toBe(400);
    expect(JSON.parse(b.body).error).toMatch(/account for only/);
    const c = await rawRequest(rt.url, binaryHead('/v2/models/no-such-model/infer', 1, header.length + 10_000_000, header.length), [header]);
    expect(c.status).toBe(404);
  });

  test('48 concurrent 60 MB requests with an invalid header: RSS grows ≤ 256 MB and comes back within 10 % of idle, without forced GC', async () => {
    const header = cnnHeader(540);
    const bodyBytes = header.length + 540 * IMAGE_BYTES; // 59.7 MB
    const burst = (n: number) =>
      Promise.all(Array.from({ length: n }, () => rawRequest(rt.url, binaryHead('/v2/models/text-orientation/infer', 540, bodyBytes, header.length), [header, 540 * IMAGE_BYTES])));
    await burst(4); // first use of these code paths
    await new Promise((r) => setTimeout(r, 500));
    const idle = rssMiB(rt.proc.pid!);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(rt.proc.pid!))), 20);
    let responses: RawResponse[];
    try {
      responses = await burst(48);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssMiB(rt.proc.pid!));
    expect(responses.map((r) => r.status)).toEqual(Array(48).fill(400));
    process.stdout.write(`48 × 60 MB invalid: RSS idle ${idle.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB\n`);
    expect(peak - idle).toBeLessThanOrEqual(256);
    // Back: the process returns to its idle footprint by itself (no --expose-gc, no global.gc()).
    await waitFor(async () => rssMiB(rt.proc.pid!) <= idle * 1.1, 30_000, 200);
    const sentTotal = responses.reduce((n, r) => n + r.sentWhenAnswered, 0);
    expect(sentTotal).toBeLessThan(48 * bodyBytes); // answered long before the bodies were sent
  });
});

describe("a request whose own timeout its queue cannot meet is refused from its header, before its body", () => {
  // One model, x: FP32 [-1, 65536] (256 KiB a row). Its queue holds one request that is never
  // dispatched, and its estimator measured 100 ms per request: the next would wait ~200 ms.
  const ROW = 65536 * 4;
  const estimator = new WaitEstimator(1);
  estimator.record(100_000, 1);
  const queue = new ModelQueue('m@1', { maxQueueSize: 100, defaultTimeoutMicroseconds: 0, allowTimeoutOverride: true }, (cause) => metrics.shed.inc({ model: 'm', version: '1', cause }), estimator);
  void queue.enqueue({ inputs: [], parameters: {} } as InferRequest).catch(() => undefined);
  const version = {
    model: 'm', version: 1, state: 'READY', queue,
    config: { maxBatchSize: 16 },
    signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 65536] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] },
  };
  const inferred: InferRequest[] = [];
  const models = {
    model: (name: string) => {
      if (name !== 'm') throw new Error('unknown');
      return { name, versions: [version] };
    },
    version: () => version,
    allReady: true,
    list: () => [],
    observe: () => undefined,
    // What the queue would run: answered at once, so an admitted request's answer is a 200.
    infer: async (_v: unknown, request: InferRequest) => {
      inferred.push(request);
      return { outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(1) }], queueUs: 0, computeUs: 0, batchSize: 1 };
    },
  } as unknown as ModelManager;
  const metrics = new RuntimeMetrics();
  const lifecycle = new Lifecycle();
  lifecycle.to('serving');
  const app = buildApp({ models, metrics, saturation: new SaturationSignal(models, 1, metrics), lifecycle, logger: pino({ level: 'warn' }), maxBodyBytes: 64 << 20, serverVersion: 'test' });
  let url: string;
  beforeAll(async () => {
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  const header = (timeoutUs: number) => Buffer.from(JSON.stringify({ parameters: { timeout: timeoutUs }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 65536], parameters: { binary_data_size: ROW } }] }));
  const head = (h: Buffer) => binaryHead('/v2/models/m/infer', 1, h.length + ROW, h.length);

  test('timeout 15 ms behind an estimated 200 ms: 503 + Retry-After with nothing of the binary part sent, counted as queue_wait, never queued', async () => {
    const h = header(15_000);
    const res = await rawRequest(url, head(h), [h, UNTIL_ANSWERED, ROW]);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(JSON.parse(res.body).error).toMatch(/estimated queue wait 200 ms \(1 waiting\) exceeds the request timeout of 15 ms/);
    expect(res.sentWhenAnswered).toBe(h.length);
    // 256 KiB left to discard: the connection is kept, as after a front-door shed.
    expect(res.headers.connection).not.toBe('close');
    expect(queue.waiting).toBe(1);
    expect(inferred).toHaveLength(0);
    const text = await metrics.render();
    expect(text).toMatch(/onnx_fleet_requests_shed_total\{model="m",version="1",cause="queue_wait"\} 1/);
    expect(text).toMatch(/nv_inference_request_failure\{model="m",version="1",reason="REJECTED"\} 1/);
  });

  test('the next request on that connection is answered; a timeout the estimate meets is read in full and served', async () => {
    const { socket, received } = await keptConnection(url);
    const refused = header(15_000);
    const admitted = header(10_000_000);
    socket.write(Buffer.concat([Buffer.from(head(refused)), refused, Buffer.alloc(ROW)]));
    socket.write(Buffer.concat([Buffer.from(head(admitted)), admitted, Buffer.alloc(ROW)]));
    await waitFor(async () => (received().match(/HTTP\/1\.1 /g) ?? []).length === 2 && /HTTP\/1\.1 200[\s\S]*\}$/.test(received()), 5000);
    socket.destroy();
    expect(received()).toMatch(/^HTTP\/1\.1 503/);
    expect(received()).toMatch(/HTTP\/1\.1 200/);
    expect(inferred).toHaveLength(1);
    expect(inferred[0].parameters.timeout).toBe(10_000_000);
  });
});

describe('the request bytes budget', () => {
  let rt: ChildRuntime;
  const MiB = 1024 * 1024;
  beforeAll(async () => {
    rt = await spawnRuntime(['--model-repository', EXAMPLES, '--port', '0', '--workers', '1', '--intra-op-threads', '1', '--drain-delay', '0', '--log-level', 'info',
      '--max-body-bytes', String(4 * MiB), '--max-request-bytes-in-flight', String(8 * MiB)]);
  });
  afterAll(async () => {
    rt.proc.kill('SIGTERM');
    await rt.exited;
  });

  const irisJson = (padding: number) => {
    const doc = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.9, 3.0, 5.1, 1.8] }] });
    return { head: Buffer.from(doc.slice(0, -1)), tail: Buffer.from(doc.slice(-1)), padding };
  };
  const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
  const chunkedHead = 'POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

  test('chunked uploads are counted as they stream in; beyond the budget requests get 503 + Retry-After, declared ones before their body', async () => {
    expect(await metric(rt.url, 'onnx_fleet_request_bytes_budget')).toBe(8 * MiB);
    // Two uploads of 3 MiB each held open (chunked: no length declared).
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const doc = irisJson(3 * MiB);
    const padding = chunk(Buffer.alloc(doc.padding, 0x20));
    const end = Buffer.from('0\r\n\r\n');
    const open = [0, 1].map(() => rawRequest(rt.url, chunkedHead, [chunk(doc.head), padding, hold, chunk(doc.tail), end]));
    await waitFor(async () => (await metric(rt.url, 'onnx_fleet_request_bytes_in_flight')) >= 6 * MiB, 30_000, 50);

    // 3 MiB declared: refused before a byte of its body is sent.
    const declared = await rawRequest(rt.url, 'POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3145728\r\n\r\n', []);
    expect(declared.status).toBe(503);
    expect(declared.headers['retry-after']).toBe('1');
    expect(JSON.parse(declared.body).error).toMatch(/budget of 8388608 bytes \(--max-request-bytes-in-flight\)/);

    // 3 MiB chunked: refused once its chunks no longer fit.
    const streamed = await rawRequest(rt.url, chunkedHead, [chunk(doc.head), padding, chunk(doc.tail), end]);
    expect(streamed.status).toBe(503);
    expect(streamed.headers['retry-after']).toBe('1');
    expect(streamed.headers.connection).toBe('close');

    // The held uploads complete normally (whitespace is valid JSON), and every byte is released.
    release();
    const completed = await Promise.all(open);
    expect(completed.map((r) => r.status)).toEqual([200, 200]);
    expect(JSON.parse(completed[0].body).outputs.find((o: { name: string }) => o.name === 'label').data).toEqual([2]);
    await waitFor(async () => (await metric(rt.url, 'onnx_fleet_request_bytes_in_flight')) === 0, 10_000, 50);
    const shed = await (await fetch(`${rt.url}/metrics`)).text();
    expect(shed).toMatch(/onnx_fleet_requests_shed_total\{model="iris",version="1",cause="request_bytes"\} 2/);
  });

  test('--max-request-bytes-in-flight below --max-body-bytes is a start error naming both', () => {
    const { loadRuntimeConfig } = jest.requireActual('../../runtime/config') as typeof import('../../runtime/config');
    expect(() => loadRuntimeConfig(['--model-repository', EXAMPLES, '--max-body-bytes', '2048', '--max-request-bytes-in-flight', '1024'])).toThrow(
      /--max-request-bytes-in-flight 1024 is below --max-body-bytes 2048/,
    );
    expect(loadRuntimeConfig(['--model-repository', EXAMPLES], { ONNX_FLEET_MAX_REQUEST_BYTES_IN_FLIGHT: '123456789' }).maxRequestBytesInFlight).toBe(123456789);
  });
});

describe('the front door: sheds and health before Fastify', () => {
  // A model whose queue (max_queue_size 1) holds a request that is never dispatched: full.
  const queue = new ModelQueue('m@1', { maxQueueSize: 1, defaultTimeoutMicroseconds: 0, allowTimeoutOverride: true }, () => undefined);
  void queue.enqueue({ inputs: [], outputs: [], parameters: {} } as unknown as InferRequest).catch(() => undefined);
  const version = { model: 'm', version: 1, state: 'READY', queue };
  const models = {
    model: (name: string) => {
      if (name !== 'm') throw new Error('unknown');
      return { name, versions: [version] };
    },
    version: () => version,
    allReady: true,
  } as unknown as ModelManager;
  const lifecycle = new Lifecycle();
  lifecycle.to('serving');
  const metrics = new RuntimeMetrics();
  let passedOn = 0;
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    const front = new FrontDoor({ models, lifecycle, metrics, logger: pino({ level: 'info' }), authenticated: false });
    server = http.createServer((req, res) => {
      if (front.handle(req, res)) return;
      passedOn++;
      req.resume();
      req.on('end', () => res.end('passed on'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const head = (path: string, length: number) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;

  test('a request its full queue refuses: 503 + Retry-After with nothing of its 2 MB body sent, the connection closes, nothing reaches Fastify', async () => {
    const before = passedOn;
    const res = await rawRequest(url, head('/v2/models/m/infer', 2 << 20), [UNTIL_ANSWERED, 2 << 20]);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body).error).toMatch(/exceeds maximum queue size \(1\)/);
    expect(res.sentWhenAnswered).toBe(0);
    expect(passedOn).toBe(before);
    const text = await metrics.render();
    expect(text).toMatch(/onnx_fleet_http_requests_total\{route="\/v2\/models\/:model\/infer",code="503"\} 1/);
    expect(text).toMatch(/nv_inference_request_failure\{model="m",version="1",reason="REJECTED"\} 1/);
  });

  test('a small shed body keeps its connection (discarded); the next request on it is answered', async () => {
    const { socket, received } = await keptConnection(url);
    socket.write(head('/v2/models/m/versions/1/infer', 100_000) + ' '.repeat(100_000));
    socket.write(`GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor(async () => (received().match(/HTTP\/1\.1 /g) ?? []).length === 2, 5000);
    socket.destroy();
    expect(received()).toMatch(/^HTTP\/1\.1 503/);
    expect(received()).not.toMatch(/connection: close/i);
    expect(received()).toMatch(/HTTP\/1\.1 200[\s\S]*\{"ready":true\}$/);
  });

  test('health is answered by the front door; unknown models and everything else are passed on', async () => {
    expect(await (await fetch(`${url}/v2/health/live`)).json()).toEqual({ live: true });
    const before = passedOn;
    expect(await (await fetch(`${url}/v2/models/other/infer`, { method: 'POST', body: '{}' })).text()).toBe('passed on');
    expect(await (await fetch(`${url}/v2/models/m`)).text()).toBe('passed on');
    expect(passedOn).toBe(before + 2);
  });
});
