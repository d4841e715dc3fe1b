/**
 * The Open Inference Protocol (KServe V2) over HTTP, as a Fastify plugin: server and model
 * health, metadata, and inference with JSON or binary tensors. Health and metadata are answered
 * from the main thread's state and never wait on a worker.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HEALTH_LIVE_PATH, HEALTH_OK_STATUS, HEALTH_READY_PATH, HEALTH_UNAVAILABLE_STATUS } from '../contract';
import { InferenceError, invalidArgument } from '../errors';
import type { Lifecycle } from '../lifecycle';
import type { RuntimeMetrics, SuccessTally } from '../metrics';
import type { ModelManager, ModelVersion } from '../models/model-manager';
import type { BytesBudget } from '../admission/bytes-budget';
import { InferBody, registerBodyReader } from './body-reader';
import { requestTimeoutUs } from './validate';
import { HEADER_LENGTH_HEADER, decodeInferRequest, encodeInferResponse } from './codec';
import type { InferRequest } from './types';
import { MainThreadSlices } from '../scheduling/main-thread-slices';

/** JSON bodies from this size on are decoded in turns with other main-thread work (~0.5 ms of decoding and up). */
const DEFER_JSON_DECODE_BYTES = 16 * 1024;
import type { CaptureService } from '../capture/capture-service';

export interface ProtocolRoutesOptions {
  models: ModelManager;
  metrics: RuntimeMetrics;
  lifecycle: Lifecycle;
  serverName: string;
  serverVersion: string;
  maxBodyBytes: number;
  /** Request bytes in flight (admission before bodies are read). */
  budget: BytesBudget;
}

/** Extensions this server implements, advertised in `GET /v2`. */
export const EXTENSIONS = ['binary_tensor_data', 'schedule_policy'];

export const PLATFORM = 'onnx_onnxv1';

const EMPTY = Buffer.alloc(0);

/** How the version's batches are sized, for its metadata: the preferred size and where it came from. */
function batchingParameters(v: ModelVersion): Record<string, string | number> {
  const out: Record<string, string | number> = v.instances === undefined ? {} : { instance_count: v.instances };
  if (v.residentBytes !== undefined) {
    out.resident_bytes = v.residentBytes;
    out.resident_bytes_source = v.residentSource ?? 'estimated';
  }
  if (v.execution) {
    out.execution_thread = v.execution.thread;
    out.execution_thread_source = v.execution.source;
    if (v.execution.runUs !== undefined) out.execution_run_us = v.execution.runUs;
  }
  if (!v.batching) return out;
  out.preferred_batch_size = v.batching.preferredBatchSize;
  out.batch_size_source = v.batching.source;
  if (v.batching.measured) {
    out.batch_calibration = v.batching.measured.map((m) => `${m.batch}:${m.inferencesPerSecond}`).join(',');
    out.batch_calibration_cpu_us = v.batching.measured.map((m) => `${m.batch}:${m.cpuUsPerInference}`).join(',');
  }
  return out;
}

interface ModelParams {
  model: string;
  version?: string;
}

export function isServerReady(models: ModelManager, lifecycle: Lifecycle): boolean {
  return lifecycle.phase === 'serving' && models.allReady;
}

/** `GET /v2/health/ready`'s answer (also given by the front door, front-door.ts); sets the ready gauge. */
export function readiness(models: ModelManager, lifecycle: Lifecycle, metrics: RuntimeMetrics): { status: number; body: { ready: boolean; reason?: string } } {
  const ready = isServerReady(models, lifecycle);
  metrics.serverReady.set(ready ? 1 : 0);
  if (ready) return { status: HEALTH_OK_STATUS, body: { ready: true } };
  const reason = lifecycle.stopping ? ['draining: the server is shutting down'] : lifecycle.phase === 'starting' ? ['starting'].concat(models.notReadyReasons()) : models.notReadyReasons();
  return { status: HEALTH_UNAVAILABLE_STATUS, body: { ready: false, reason: reason.join('; ') } };
}

export async function protocolRoutes(app: FastifyInstance, opts: ProtocolRoutesOptions): Promise<void> {
  const { models, metrics, lifecycle } = opts;

  // Inference bodies are read under the bytes budget (binary headers validated before the binary
  // part) and parsed by the protocol codec, not by Fastify.
  registerBodyReader(app, { budget: opts.budget, maxBodyBytes: opts.maxBodyBytes, models, metrics });

  app.get(HEALTH_LIVE_PATH, { config: { health: true } }, async (_req, reply) => {
    reply.code(HEALTH_OK_STATUS).send({ live: true });
  });

  app.get(HEALTH_READY_PATH, { config: { health: true } }, async (_req, reply) => {
    const answer = readiness(models, lifecycle, metrics);
    return reply.code(answer.status).send(answer.body);
  });

  app.get('/v2', async () => ({ name: opts.serverName, version: opts.serverVersion, extensions: EXTENSIONS }));

  const metadata = (name: string, version?: string) => {
    const model = models.model(name);
    const v = models.version(name, version);
    const signature = v.signature!;
    const served = version === undefined ? model.versions.filter((x) => x.state === 'READY').map((x) => String(x.version)) : [String(v.version)];
    return {
      name,
      versions: served,
      platform: PLATFORM,
      inputs: signature.inputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
      outputs: signature.outputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
      parameters: { ...(v.config.labels ? { labels: v.config.labels.join(',') } : {}), max_batch_size: v.config.maxBatchSize, warmed: v.warmed === true, ...batchingParameters(v) },
    };
  };
  app.get<{ Params: ModelParams }>('/v2/models/:model', async (req) => metadata(req.params.model));
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version', async (req) => metadata(req.params.model, req.params.version));

  const modelReady = (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const model = models.model(req.params.model);
    try {
      models.version(model.name, req.params.version);
      return reply.code(HEALTH_OK_STATUS).send({ name: model.name, ready: true });
    } catch (err) {
      if (err instanceof InferenceError && err.statusCode === 503) {
        return reply.code(HEALTH_UNAVAILABLE_STATUS).send({ name: model.name, ready: false, reason: err.message });
      }
      throw err;
    }
  };
  app.get<{ Params: ModelParams }>('/v2/models/:model/ready', { config: { health: true } }, modelReady);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/ready', { config: { health: true } }, modelReady);

  // Each version's success tally (metrics.ts), found once per version rather than once per request.
  const tallies = new WeakMap<ModelVersion, SuccessTally>();
  const successTally = (v: ModelVersion): SuccessTally => {
    let t = tallies.get(v);
    if (!t) tallies.set(v, (t = metrics.successTally(v.model, String(v.version))));
    return t;
  };

  // Large JSON bodies are decoded in turns (main-thread-slices.ts): a few ms each, back to back they
  // held health probes for seconds. Binary bodies decode in µs (views) and small ones are not deferred.
  const slices = new MainThreadSlices();
  const decode = (body: Buffer, headerLength: string | undefined, v: ModelVersion, preparsed: InferBody['binaryHeader']): InferRequest | Promise<InferRequest> => {
    const run = () => decodeInferRequest(body, headerLength, v.signature!, { maxBatchSize: v.config.maxBatchSize }, preparsed);
    return headerLength === undefined && body.length >= DEFER_JSON_DECODE_BYTES ? slices.run(run) : run();
  };

  const infer = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    const v: ModelVersion = models.version(req.params.model, req.params.version);
    const labels = { model: v.model, version: String(v.version) };
    req.inferenceLabels = labels;
    const read = req.body as InferBody | undefined;
    const body = read?.body ?? EMPTY;
    const headerLength = req.headers['inference-header-content-length'];
    const requestHeaderLength = Array.isArray(headerLength) ? headerLength[0] : headerLength;
    let request: InferRequest | undefined;
    // Data capture, once the response (or error) is known: sampled, journaled, never throws or waits.
    const capture = (status: number, response?: { body: Buffer; contentType: string; headers: Record<string, string> }, error?: string) => {
      const pk = request?.parameters.partition_key;
      app.capture?.record({
        model: v.model,
        version: String(v.version),
        settings: v.config.dataCapture,
        requestId: request?.id ?? req.id,
        partitionKey: typeof pk === 'string' || typeof pk === 'number' ? String(pk) : undefined,
        status,
        latencyUs: Number(process.hrtime.bigint() - started) / 1000,
        request: { body, contentType: req.headers['content-type'], headerLength: requestHeaderLength },
        response: response && { body: response.body, contentType: response.contentType, headerLength: response.headers[HEADER_LENGTH_HEADER] },
        error,
      });
    };
    try {
      // Refused by its own deadline as soon as its header was in (body-reader.ts): the body was never read.
      if (read?.refused) throw read.refused;
      const pending = decode(body, requestHeaderLength, v, read?.binaryHeader);
      request = pending instanceof Promise ? await pending : pending; // no microtask for what was not deferred
      const timeoutUs = requestTimeoutUs(request);
      const decoded = process.hrtime.bigint();
      const outcome = await models.infer(v, request, timeoutUs);
      const executed = process.hrtime.bigint();
      const encoded = encodeInferResponse({ modelName: v.model, modelVersion: String(v.version), id: request.id, outputs: outcome.outputs }, request);
      const done = process.hrtime.bigint();
      const tally = successTally(v);
      tally.count++;
      tally.queueUs += outcome.queueUs;
      tally.inputUs += Number(decoded - started) / 1000;
      tally.outputUs += Number(done - executed) / 1000;
      tally.requestUs += Number(done - started) / 1000;
      capture(200, encoded);
      models.observe(v, true, Number(done - started) / 1000);
      reply.code(200).headers(encoded.headers).type(encoded.contentType);
      return reply.send(encoded.body);
    } catch (err) {
      const reason = err instanceof InferenceError && err.statusCode === 503 ? 'REJECTED' : err instanceof InferenceError && /could not run/.test(err.message) ? 'BACKEND' : 'OTHER';
      metrics.countTally(metrics.requestFailure, { ...labels, reason }).n++;
      // The canary is judged on what the version did: execution errors and 5xx, not bad input or shedding.
      if (reason === 'BACKEND' || (err instanceof InferenceError ? err.statusCode >= 500 && err.statusCode !== 503 : true)) models.observe(v, false, Number(process.hrtime.bigint() - started) / 1000);
      metrics.countTally(metrics.requestDuration, labels).n += Number(process.hrtime.bigint() - started) / 1000;
      capture(err instanceof InferenceError ? err.statusCode : 500, undefined, err instanceof Error ? err.message : String(err));
      throw err;
    }
  };
  // Under overload, reject before the body is received and decoded: taking in bodies only to
  // refuse them would starve the requests that were accepted.
  // A callback hook, not an async one (a promise and a microtask per request, issue 15).
  const shedEarly = (req: FastifyRequest<{ Params: ModelParams }>, _reply: FastifyReply, done: (err?: Error) => void) => {
    let v: ModelVersion;
    try {
      v = models.version(req.params.model, req.params.version);
    } catch {
      return done(); // unknown or not ready: the handler answers with the right error
    }
    const refused = v.queue?.refusal();
    if (refused) {
      metrics.countTally(metrics.requestFailure, { model: v.model, version: String(v.version), reason: 'REJECTED' }).n++;
      req.inferenceLabels = { model: v.model, version: String(v.version) };
      return done(refused);
    }
    done();
  };
  app.post<{ Params: ModelParams }>('/v2/models/:model/infer', { onRequest: shedEarly }, infer);
  app.post<{ Params: ModelParams }>('/v2/models/:model/versions/:version/infer', { onRequest: shedEarly }, infer);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Data capture, decorated by the server when configured (runtime/capture). */
    capture?: CaptureService;
  }
  interface FastifyRequest {
    /** Model and version of an inference request, for the access log. */
    inferenceLabels?: { model: string; version: string };
  }
  interface FastifyContextConfig {
    /** Health endpoints: logged at debug, never behind auth. */
    health?: boolean;
    /** Repository API: behind the admin tokens when they are configured. */
    admin?: boolean;
  }
}
