/**
 * Triton's model repository extension over HTTP, as a Fastify plugin:
 *   POST /v2/repository/index                  every model version, its state and, if not ready, why
 *   POST /v2/repository/models/{m}/load        explicit mode: (re)load, optional {"parameters": {"config": "<config.json text>"}}
 *   POST /v2/repository/models/{m}/unload      explicit mode: drain, then unload
 * Behind the bearer tokens (the admin tokens when configured: route config `admin`).
 */
import type { FastifyInstance } from 'fastify';
import type { ModelControlMode } from '../config';
import { invalidArgument } from '../errors';
import type { ModelManager } from './model-manager';

export interface RepositoryRoutesOptions {
  models: ModelManager;
  mode: ModelControlMode;
}

interface ModelParams {
  model: string;
}

type IndexEntry = Record<string, string>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON body of a repository request (Fastify hands the protocol plugin's raw buffer). */
function parseBody(body: unknown, route: string): Record<string, unknown> {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  if (text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${route}: request body is not JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) throw invalidArgument(`${route}: request body must be a JSON object`);
  return json;
}

export async function repositoryRoutes(app: FastifyInstance, opts: RepositoryRoutesOptions): Promise<void> {
  const { models, mode } = opts;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.post('/v2/repository/index', { config: { admin: true } }, async (req): Promise<IndexEntry[]> => {
    const body = parseBody(req.body, 'repository index');
    if (body.ready !== undefined && typeof body.ready !== 'boolean') throw invalidArgument(`repository index: "ready" must be true or false, got ${JSON.stringify(body.ready)}`);
    const entries = models.list().flatMap((m): IndexEntry[] => {
      if (m.versions.length === 0 && !m.canary) return [{ name: m.name, state: 'UNAVAILABLE', ...(m.error ? { reason: m.error } : {}) }];
      const out: IndexEntry[] = m.versions.map((v) => ({ name: m.name, version: String(v.version), state: v.state, ...(v.reason ? { reason: v.reason } : {}) }));
      if (m.canary) {
        const c = m.canary.status();
        const reason = c.state === 'routed_out' ? `canary routed out: ${c.reason}` : `canary at ${c.weightPercent} %, ${c.state}`;
        out.push({ name: m.name, version: String(c.version), state: m.canary.version.state, reason });
      }
      return out.sort((a, b) => Number(b.version ?? 0) - Number(a.version ?? 0));
    });
    return body.ready === true ? entries.filter((e) => e.state === 'READY') : entries;
  });

  const explicitOnly = (what: string) => {
    if (mode !== 'explicit') {
      throw invalidArgument(`explicit model ${what} is not allowed in model control mode '${mode}'; start the server with --model-control-mode explicit`);
    }
  };

  app.post<{ Params: ModelParams }>('/v2/repository/models/:model/load', { config: { admin: true } }, async (req, reply) => {
    explicitOnly('load');
    const body = parseBody(req.body, `load '${req.params.model}'`);
    let override: string | undefined;
    if (body.parameters !== undefined) {
      if (!isObject(body.parameters)) throw invalidArgument(`load '${req.params.model}': "parameters" must be an object`);
      for (const [k, value] of Object.entries(body.parameters)) {
        if (k === 'config') {
          if (typeof value !== 'string') throw invalidArgument(`load '${req.params.model}': parameters.config must be the model configuration as a JSON string`);
          override = value;
        } else if (k.startsWith('file:')) {
          throw invalidArgument(`load '${req.params.model}': file overrides ("${k}") are not supported; publish the version to the repository instead (onnx-fleet models publish)`);
        } else {
          throw invalidArgument(`load '${req.params.model}': unknown parameter "${k}"; supported: config`);
        }
      }
    }
    const { model, problem } = await models.load(req.params.model, override);
    if (problem) throw invalidArgument(`failed to load '${model.name}': ${problem}`);
    return reply.code(200).send({});
  });

  app.post<{ Params: ModelParams }>('/v2/repository/models/:model/unload', { config: { admin: true } }, async (req, reply) => {
    explicitOnly('unload');
    const body = parseBody(req.body, `unload '${req.params.model}'`);
    if (body.parameters !== undefined && !isObject(body.parameters)) throw invalidArgument(`unload '${req.params.model}': "parameters" must be an object`);
    await models.unload(req.params.model);
    return reply.code(200).send({});
  });
}
