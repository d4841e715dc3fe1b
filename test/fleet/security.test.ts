/**
 * Security checks on a real instance (the compiled CLI) with authentication enabled: tokens from a
 * file and from the environment; without a valid bearer token a request gets 401 with the
 * protocol's error body and WWW-Authenticate, and never reaches a worker (nv_inference_count does
 * not move); health, readiness and metrics stay reachable without a token (load balancers,
 * Prometheus); the body limit answers 413; no token ever appears in the logs, even at debug.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeVerifier, loadAuthTokens, parseTokenFile } from '../../runtime/auth';
import { HEALTH_LIVE_PATH, HEALTH_READY_PATH, METRICS_PATH } from '../../runtime/contract';
import { freePort } from '../helpers/haproxy';
import { isReady, spawnRuntime, waitFor } from '../helpers/runtime';
import { Instance, metricValue, scrape } from './fleet';
import { buildFleetRepository } from './repository';
import { IRIS_BODY } from './requests';

const FILE_TOKENS = ['tok-file-A1b2C3d4E5f6G7h8I9j0', 'tok-file-Zz9Yy8Xx7Ww6Vv5Uu4'];
const ENV_TOKEN = 'tok-env-Qq1Rr2Ss3Tt4Uu5Vv6Ww7';
const ALL_TOKENS = [...FILE_TOKENS, ENV_TOKEN];
const MAX_BODY_BYTES = 64 * 1024;

let dir: string;
let instance: Instance;

const infer = (headers: Record<string, string>, body: string | Buffer = IRIS_BODY) =>
  fetch(`${instance.url}/v2/models/iris/infer`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

const inferences = async () => metricValue(await scrape(instance.url), 'nv_inference_count', { model: 'iris' });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-auth-'));
  const file = path.join(dir, 'tokens');
  fs.writeFileSync(file, `# bearer tokens, one per line\n${FILE_TOKENS[0]}\n\n  ${FILE_TOKENS[1]}  \n`, { mode: 0o600 });
  const repo = buildFleetRepository({ maxQueueSize: 64 });
  instance = new Instance('auth', await freePort(), repo, ['--workers', '1', '--intra-op-threads', '1', '--drain-delay', '0', '--log-level', 'debug', '--auth-tokens-file', file, '--max-body-bytes', String(MAX_BODY_BYTES)], { ONNX_FLEET_AUTH_TOKENS: ENV_TOKEN });
  await instance.start();
  await waitFor(() => isReady(instance.url), 60_000);
}, 90_000);

afterAll(async () => {
  for (const g of instance?.generations ?? []) g.proc.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('health, readiness and metrics answer without a token', async () => {
  for (const p of [HEALTH_LIVE_PATH, HEALTH_READY_PATH, METRICS_PATH, '/v2/models/iris/ready']) {
    const res = await fetch(instance.url + p);
    await res.arrayBuffer();
    expect([p, res.status]).toEqual([p, 200]);
  }
});

test('no token, a malformed header or a wrong token: 401 with WWW-Authenticate and the protocol error body, and no inference runs', async () => {
  const before = await inferences();
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /^Bearer realm="onnx-fleet"$/],
    [{ authorization: `Basic ${Buffer.from('user:' + FILE_TOKENS[0]).toString('base64')}` }, /error="invalid_request"/],
    [{ authorization: 'Bearer' }, /error="invalid_request"/],
    [{ authorization: `Bearer ${FILE_TOKENS[0]}x` }, /error="invalid_token"/],
    [{ authorization: `Bearer ${FILE_TOKENS[0].slice(0, -1)}` }, /error="invalid_token"/],
    [{ authorization: `Bearer ${'a'.repeat(4000)}` }, /error="invalid_token"/],
    [{ authorization: `Bearer ${FILE_TOKENS[0]} ${FILE_TOKENS[1]}` }, /error="invalid_request"/],
  ];
  for (const [headers, challenge] of cases) {
    const res = await infer(headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(challenge);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { error: string };
    expect(typeof body.error).toBe('string');
    expect(JSON.stringify(body)).not.toContain(FILE_TOKENS[0]);
  }
  // Metadata, the server's own metadata and the repository index are protected too; unknown routes do not reveal what exists.
  for (const [method, p] of [['GET', '/v2/models/iris'], ['GET', '/v2'], ['POST', '/v2/repository/index'], ['GET', '/v2/models/nope'], ['POST', '/v2/models/text-orientation/infer']]) {
    const res = await fetch(instance.url + p, { method });
    await res.arrayBuffer();
    expect([p, res.status]).toEqual([p, 401]);
  }
  // Many unauthenticated requests later, not one inference ran.
  await Promise.all(Array.from({ length: 200 }, () => infer({ authorization: 'Bearer nope' }).then((r) => r.arrayBuffer())));
  expect(await inferences()).toBe(before);
});

test('a valid token from the file or from the environment is accepted, scheme case-insensitive', async () => {
  const before = await inferences();
  for (const auth of [`Bearer ${FILE_TOKENS[0]}`, `bearer ${FILE_TOKENS[1]}`, `BEARER ${ENV_TOKEN}`]) {
    const res = await infer({ authorization: auth });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  expect(await inferences()).toBe(before + 3);
});

test('the body limit answers 413 with the protocol error body (authenticated), 401 first when not', async () => {
  const big = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: new Array(MAX_BODY_BYTES / 4).fill(1.5) }] });
  expect(big.length).toBeGreaterThan(MAX_BODY_BYTES);
  const res = await infer({ authorization: `Bearer ${ENV_TOKEN}` }, big);
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: string }).error).toMatch(/larger than the server's limit of 65536 bytes/);
});

test('tokens never appear in the logs', async () => {
  // Give the logger every chance: requests carrying valid and invalid tokens, at debug level.
  await infer({ authorization: `Bearer ${ENV_TOKEN}`, 'x-request-id': 'log-check' }).then((r) => r.arrayBuffer());
  await infer({ authorization: `Bearer ${FILE_TOKENS[1]}-wrong` }).then((r) => r.arrayBuffer());
  await new Promise((r) => setTimeout(r, 300));
  const text = instance.logs.join('\n');
  expect(text).toContain('log-check'); // the requests were logged...
  expect(text).toContain('unauthenticated request rejected');
  for (const t of ALL_TOKENS) expect(text).not.toContain(t); // ...their tokens were not
  expect(text).not.toContain(FILE_TOKENS[1].slice(4, 16));
});

test('a tokens file that is missing or empty stops the start (never comes up open); messages name the file, not a token', async () => {
  const empty = path.join(dir, 'empty');
  fs.writeFileSync(empty, '# nothing yet\n\n');
  await expect(spawnRuntime(['--model-repository', dir, '--port', '0', '--auth-tokens-file', empty])).rejects.toThrow(/holds no token/);
  await expect(spawnRuntime(['--model-repository', dir, '--port', '0', '--auth-tokens-file', path.join(dir, 'missing')])).rejects.toThrow(/cannot read .*missing: ENOENT/);
  const bad = path.join(dir, 'bad');
  fs.writeFileSync(bad, 'has space inside\n');
  await expect(loadAuthTokens({ authTokensFile: bad })).rejects.toThrow(/non-comment line 1/);
  await expect(loadAuthTokens({ authTokensFile: bad })).rejects.not.toThrow(/has space inside/);
});

test('the verifier accepts exactly the configured tokens', () => {
  const verify = makeVerifier(parseTokenFile(`${FILE_TOKENS[0]}\n# ${FILE_TOKENS[1]}\n`));
  expect(verify(FILE_TOKENS[0])).toBe(true);
  expect(verify(FILE_TOKENS[1])).toBe(false);
  expect(verify('')).toBe(false);
  expect(verify(FILE_TOKENS[0] + '\u0000')).toBe(false);
  expect(makeVerifier([])('anything')).toBe(false);
});
