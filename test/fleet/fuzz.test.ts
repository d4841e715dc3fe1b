/**
 * Bad input against one real instance (the compiled CLI in a child process): fast-check generates
 * 10,000 malformed, truncated, oversized, wrongly typed and adversarial requests — JSON and binary
 * tensor data (Inference-Header-Content-Length), odd headers, odd paths and methods, broken HTTP
 * framing on raw sockets. Every answer must be a 4xx or a 503 (never another 5xx), the process
 * must not crash, it must still be ready, and its RSS may grow by less than 10 %.
 */
import fc from 'fast-check';
import http from 'node:http';
import net from 'node:net';
import { Instance, logMessages, sleep } from './fleet';
import { freePort } from '../helpers/haproxy';
import { isReady, waitFor } from '../helpers/runtime';
import { buildFleetRepository } from './repository';
import { IRIS_BODY } from './requests';

const CASES = 10_000;
// A full pass of other cases first: the heap and socket buffers grow to their working size, so the
// measured pass shows what is left behind (a leak), not the process settling in.
const WARMUP_CASES = 10_000;
const CONCURRENCY = 16;
const MAX_BODY_BYTES = 256 * 1024;

interface FuzzCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent as these exact bytes on a raw socket instead (broken framing, invalid header bytes). */
  raw?: Buffer;
}

const IRIS = '/v2/models/iris/infer';
const HEAVY = '/v2/models/text-orientation/infer';
const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'BF16', 'fp32', 'FLOAT', '', 'FP32 ', 'FP3\u0000'];

const weirdNumber = fc.oneof(
  fc.integer({ min: -10, max: 10 }),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 32 + 1, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e308, -1e308, 1e-320, 0.5),
  fc.double(),
);
const shapeArb = fc.oneof(
  fc.constant([1, 4]),
  fc.array(weirdNumber, { maxLength: 8 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }),
  fc.constantFrom([1e9, 4], [4294967296, 1], [65536, 65536, 65536], [-1, 4], [0, 4], [1, 3, 48, 192]),
  fc.jsonValue({ maxDepth: 2 }),
);
const dataArb = fc.oneof(
  fc.array(fc.double(), { maxLength: 12 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 6 }),
  fc.array(fc.array(fc.oneof(fc.double(), fc.string(), fc.boolean(), fc.constant(null)), { maxLength: 5 }), { maxLength: 4 }),
  fc.constantFrom([5.1, 3.5, 1.4, 0.2], ['5.1', '3.5', '1.4', '0.2'], [true, false, true, false], [[[[[[1]]]]]], 'NaN', null, {}),
  fc.jsonValue({ maxDepth: 3 }),
);
const paramsArb = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(fc.constantFrom('binary_data_size', 'binary_data', 'binary_data_output', 'timeout', 'classification', 'priority', 'sequence_id', 'x'), fc.jsonValue({ maxDepth: 1 })),
);
const tensorArb = fc.record(
  {
    name: fc.oneof(fc.constantFrom('features', 'x', 'FEATURES', '', 'features\u0000', '../features'), fc.string(), fc.jsonValue({ maxDepth: 1 })),
    datatype: fc.oneof(fc.constantFrom(...DATATYPES), fc.jsonValue({ maxDepth: 1 })),
    shape: shapeArb,
    data: dataArb,
    parameters: paramsArb,
  },
  { requiredKeys: [] },
);
const inferJsonArb = fc.record(
  {
    id: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
    inputs: fc.oneof(fc.array(tensorArb, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
    outputs: fc.oneof(fc.array(fc.record({ name: fc.oneof(fc.string(), fc.constantFrom('probabilities', 'label')), parameters: paramsArb }, { requiredKeys: [] }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
    parameters: paramsArb,
  },
  { requiredKeys: [] },
);
const contentType = fc.constantFrom('application/json', 'application/octet-stream', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', '', '*/*', 'application/x-www-form-urlencoded');

const jsonCase: fc.Arbitrary<FuzzCase> = fc.record({ body: inferJsonArb, path: fc.constantFrom(IRIS, HEAVY, '/v2/models/iris/versions/1/infer'), ct: contentType }).map(({ body, path, ct }) => ({
  kind: 'json', method: 'POST', path, headers: { 'content-type': ct }, body: Buffer.from(JSON.stringify(body) ?? ''),
}));

const truncatedCase: fc.Arbitrary<FuzzCase> = fc.record({ body: inferJsonArb, cut: fc.double({ min: 0, max: 1, noNaN: true }) }).map(({ body, cut }) => {
  const text = JSON.stringify(body) ?? '';
  return { kind: 'truncated-json', method: 'POST', path: IRIS, headers: { 'content-type': 'application/json' }, body: Buffer.from(text.slice(0, Math.floor(text.length * cut))) };
});

const bytesCase: fc.Arbitrary<FuzzCase> = fc.record({ bytes: fc.uint8Array({ maxLength: 2048 }), ct: contentType, path: fc.constantFrom(IRIS, HEAVY) }).map(({ bytes, ct, path }) => ({
  kind: 'random-bytes', method: 'POST', path, headers: { 'content-type': ct }, body: Buffer.from(bytes),
}));

const headerLength = fc.oneof(
  fc.constant('exact'),
  fc.integer({ min: -3, max: 3 }).map((d) => `delta:${d}`),
  fc.constantFrom('-1', '0', 'abc', '1e3', '99999999999999999999', '4294967296', ' 12', '0x10', '', '12,12', '3.5'),
);
const binaryCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    header: fc.oneof(inferJsonArb, fc.constant({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], parameters: { binary_data_size: 110592 } }] }), fc.constant({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }] })),
    sizeOverride: fc.oneof(fc.constant(undefined), weirdNumber, fc.jsonValue({ maxDepth: 1 })),
    tail: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 120_000 }).map((len) => new Uint8Array(len))),
    hl: headerLength,
    path: fc.constantFrom(IRIS, HEAVY),
  })
  .map(({ header, sizeOverride, tail, hl, path }) => {
    const h = JSON.parse(JSON.stringify(header)) as Record<string, any>;
    if (sizeOverride !== undefined && Array.isArray(h.inputs) && h.inputs[0] && typeof h.inputs[0] === 'object') {
      h.inputs[0].parameters = { ...(h.inputs[0].parameters ?? {}), binary_data_size: sizeOverride };
    }
    const headerBytes = Buffer.from(JSON.stringify(h));
    const value = hl === 'exact' ? String(headerBytes.length) : hl.startsWith('delta:') ? String(headerBytes.length + Number(hl.slice(6))) : hl;
    return {
      kind: 'binary', method: 'POST', path,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': value },
      body: Buffer.concat([headerBytes, Buffer.from(tail)]),
    };
  });

const deepCase: fc.Arbitrary<FuzzCase> = fc.integer({ min: 100, max: 100_000 }).map((depth) => ({
  kind: 'deep-nesting', method: 'POST', path: IRIS, headers: { 'content-type': 'application/json' },
  body: Buffer.from(`{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":${'['.repeat(depth)}1${']'.repeat(depth)}}]}`),
}));

const oversizedCase: fc.Arbitrary<FuzzCase> = fc.integer({ min: 1, max: 64 * 1024 }).map((extra) => ({
  kind: 'oversized', method: 'POST', path: IRIS, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(MAX_BODY_BYTES + extra, 0x20),
}));

const pathCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    model: fc.oneof(fc.constantFrom('iris', 'text-orientation', '..', '%2e%2e', 'iris%00', 'IRIS', 'a'.repeat(2000), '%ff%fe', '😀', 'broken'), fc.string()),
    version: fc.oneof(fc.constant(undefined), fc.constantFrom('1', '0', '-1', '2', '99999999999999999999', '1.0', 'latest', ''), fc.string()),
    tail: fc.constantFrom('infer', 'ready', '', 'infer/', 'metadata'),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    query: fc.constantFrom('', '?x=1', '?' + 'a=1&'.repeat(500), '?%zz'),
  })
  .map(({ model, version, tail, method, query }) => ({
    kind: 'path', method,
    path: `/v2/models/${encodeURIComponent(model).replace(/%25/g, '%')}${version === undefined ? '' : `/versions/${encodeURIComponent(version)}`}/${tail}${query}`,
    headers: { 'content-type': 'application/json' },
    body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(IRIS_BODY),
  }));

const headerCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    name: fc.constantFrom('content-encoding', 'accept', 'x-request-id', 'accept-encoding', 'expect', 'x-forwarded-for', 'authorization', 'inference-header-content-length', 'content-type', 'x-custom'),
    value: fc.oneof(fc.constantFrom('gzip', 'br', 'deflate', 'identity, gzip', '100-continue', 'Bearer', 'Bearer x', '*/*;q=0', '\t'), fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), fc.integer({ min: 1, max: 12_000 }).map((k) => 'v'.repeat(k))),
    count: fc.integer({ min: 1, max: 60 }),
  })
  .map(({ name, value, count }) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    headers[name] = value.replace(/[^\t\x20-\x7e]/g, '');
    for (let i = 1; i < count; i++) headers[`x-filler-${i}`] = String(i);
    return { kind: 'headers', method: 'POST', path: IRIS, headers, body: Buffer.from(IRIS_BODY) };
  });

const rawCase: fc.Arbitrary<FuzzCase> = fc
  .oneof(
    // Content-Length larger than what is sent, then the client goes away.
    fc.integer({ min: 1, max: 10_000 }).map((missing) => `POST ${IRIS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${IRIS_BODY.length + missing}\r\n\r\n${IRIS_BODY}`),
    // Two Content-Lengths, a negative one, chunked with a bad chunk, obs-fold, bare LF, invalid bytes in a header.
    fc.constantFrom(
      `POST ${IRIS} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}{`,
      `POST ${IRIS} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n`,
      `POST ${IRIS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST ${IRIS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\n{}}\r\n0\r\n\r\n`,
      `POST ${IRIS} HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}`,
      `POST ${IRIS} HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}`,
      `GET /v2/health/ready HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n`,
      `POST ${IRIS} HTTP/1.1\r\nHost: x\r\nInference-Header-Content-Length: 10\r\nInference-Header-Content-Length: 20\r\nContent-Length: 2\r\n\r\n{}`,
      `BREW /v2 HTCPCP/1.0\r\n\r\n`,
      `\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003`,
      `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `POST ${IRIS} HTTP/1.0\r\nContent-Type: application/json\r\n\r\n${IRIS_BODY}`,
    ),
    fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b).toString('latin1')),
  )
  .map((text) => ({ kind: 'raw', method: '', path: '', headers: {}, raw: Buffer.from(text, 'latin1') }));

const validCase: fc.Arbitrary<FuzzCase> = fc.array(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 8 }).map((rows) => ({
  kind: 'valid', method: 'POST', path: IRIS, headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 4], data: rows }] })),
}));

const caseArb: fc.Arbitrary<FuzzCase> = fc.oneof(
  { arbitrary: jsonCase, weight: 30 },
  { arbitrary: truncatedCase, weight: 8 },
  { arbitrary: bytesCase, weight: 8 },
  { arbitrary: binaryCase, weight: 20 },
  { arbitrary: deepCase, weight: 2 },
  { arbitrary: oversizedCase, weight: 2 },
  { arbitrary: pathCase, weight: 10 },
  { arbitrary: headerCase, weight: 8 },
  { arbitrary: rawCase, weight: 6 },
  { arbitrary: validCase, weight: 6 },
);

interface Outcome {
  status?: number;
  /** No HTTP answer: the connection was closed or reset (allowed for broken framing). */
  noResponse?: string;
}

function sendHttp(agent: http.Agent, base: string, c: FuzzCase): Promise<Outcome> {
  return new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      req = http.request(base + c.path, { method: c.method, agent, headers: { ...c.headers, ...(c.body ? { 'content-length': String(c.body.length) } : {}) } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
        res.on('error', () => resolve({ status: res.statusCode }));
      });
    } catch (err) {
      // The client library refused the request itself (e.g. an invalid path): nothing was sent.
      resolve({ noResponse: `client refused: ${(err as Error).message}` });
      return;
    }
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ noResponse: err.code ?? err.message }));
    req.end(c.body);
  });
}

function sendRaw(port: number, raw: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(o);
    };
    sock.setTimeout(5000, () => finish(chunks.length ? parseStatus(Buffer.concat(chunks)) : { noResponse: 'timeout' }));
    sock.on('connect', () => sock.end(raw));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (err: NodeJS.ErrnoException) => finish(chunks.length ? parseStatus(Buffer.concat(chunks)) : { noResponse: err.code ?? err.message }));
    sock.on('close', () => finish(chunks.length ? parseStatus(Buffer.concat(chunks)) : { noResponse: 'closed' }));
  });
}

function parseStatus(b: Buffer): Outcome {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(b.subarray(0, 32).toString('latin1'));
  return m ? { status: Number(m[1]) } : { noResponse: `unparsable answer ${JSON.stringify(b.subarray(0, 40).toString('latin1'))}` };
}

async function runCases(port: number, cases: FuzzCase[]): Promise<{ statuses: Record<string, number>; noResponse: Record<string, number>; bad: Array<{ c: FuzzCase; o: Outcome }> }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const base = `http://127.0.0.1:${port}`;
  const statuses: Record<string, number> = {};
  const noResponse: Record<string, number> = {};
  const bad: Array<{ c: FuzzCase; o: Outcome }> = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const o = c.raw ? await sendRaw(port, c.raw) : await sendHttp(agent, base, c);
      if (o.status !== undefined) {
        statuses[o.status] = (statuses[o.status] ?? 0) + 1;
        if (o.status >= 500 && o.status !== 503) bad.push({ c, o });
      } else {
        const key = `${c.kind}: ${o.noResponse}`;
        noResponse[key] = (noResponse[key] ?? 0) + 1;
        // Only broken framing, oversized bodies (the server may stop reading and close) or requests the client refused may go unanswered.
        if (!['raw', 'oversized'].includes(c.kind) && !o.noResponse!.startsWith('client refused')) bad.push({ c, o });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return { statuses, noResponse, bad };
}

const describeOrSkip = process.platform === 'linux' ? describe : describe.skip;

describeOrSkip('fuzzing one instance with 10,000 generated bad requests', () => {
  let instance: Instance;

  beforeAll(async () => {
    const repo = buildFleetRepository({ maxQueueSize: 64 });
    instance = new Instance('fuzz', await freePort(), repo, ['--workers', '1', '--intra-op-threads', '1', '--drain-delay', '0', '--max-body-bytes', String(MAX_BODY_BYTES)], {});
    await instance.start();
    await waitFor(() => isReady(instance.url), 60_000);
  }, 90_000);

  afterAll(async () => {
    for (const g of instance?.generations ?? []) g.proc.kill('SIGKILL');
  });

  /**
   * Median of five RSS readings over a second of idling, after a second of quiet (the runtime
   * collects a burst's garbage once no request has come for half a second: idle-heap-trim.ts);
   * one reading catches GC mid-cycle.
   */
  async function settledRss(): Promise<number> {
    await sleep(1000);
    const readings: number[] = [];
    for (let i = 0; i < 5; i++) {
      await sleep(250);
      readings.push(instance.rss());
    }
    return readings.sort((a, b) => a - b)[2];
  }

  test('no 5xx other than 503, no crash, still ready, RSS growth < 10 %', async () => {
    const warmup = fc.sample(caseArb, { numRuns: WARMUP_CASES, seed: 7 });
    const cases = fc.sample(caseArb, { numRuns: CASES, seed: 42 });
    const kinds: Record<string, number> = {};
    for (const c of cases) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;

    const w = await runCases(instance.port, warmup);
    expect(w.bad.slice(0, 5)).toEqual([]);
    const rssBefore = await settledRss();
    const t0 = Date.now();
    const r = await runCases(instance.port, cases);
    const ms = Date.now() - t0;
    const rssAfter = await settledRss();
    const growth = (rssAfter - rssBefore) / rssBefore;
    // eslint-disable-next-line no-console
    console.log(`FLEET fuzz ${JSON.stringify({ cases: CASES, ms, kinds, statuses: r.statuses, noResponse: r.noResponse, bad: r.bad.length, rssBeforeMiB: Math.round(rssBefore / 2 ** 20), rssAfterMiB: Math.round(rssAfter / 2 ** 20), rssGrowthPct: Math.round(growth * 1000) / 10 })}`);
    const badExamples = r.bad.slice(0, 5).map(({ c, o }) => ({ kind: c.kind, method: c.method, path: c.path.slice(0, 200), headers: c.headers, body: (c.body ?? c.raw)?.subarray(0, 300).toString('latin1'), outcome: o }));
    expect(badExamples).toEqual([]);
    expect(instance.alive).toBe(true);
    expect(await isReady(instance.url)).toBe(true);
    expect(growth).toBeLessThan(0.1);
    const errors = logMessages(instance.logs).filter((l) => typeof l.level === 'number' && (l.level as number) >= 50);
    expect(errors.map((e) => e.msg)).toEqual([]);
  }, 300_000);
});
