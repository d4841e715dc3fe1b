/**
 * Reads inference request bodies under the request bytes budget, instead of Fastify's default
 * "buffer everything, then look" parsing:
 *
 * - a declared Content-Length is checked against --max-body-bytes (413) and reserved in the
 *   budget (503 + Retry-After when it does not fit) before any byte of the body is read; chunked
 *   uploads reserve each chunk as it arrives and are cut off the same way;
 * - a binary request's JSON header (Inference-Header-Content-Length) is validated against the
 *   model as soon as its bytes are in, with the declared body length: an unknown input, a batch
 *   over max_batch_size or sizes that cannot add up are answered before the binary data is read;
 *   so is a request whose own `timeout` its queue's estimated wait already exceeds (503 +
 *   Retry-After, the front door could not see that timeout): the rest of its body is discarded,
 *   and the connection kept when that rest is small (DRAIN_LIMIT_BYTES), as for a front-door shed;
 * - a request refused part-way is not read further: the rest of its body is discarded as it
 *   arrives (never buffered) and the connection closes after the answer (Fastify closes it after a
 *   parser error). A request refused before its body, in an onRequest hook, keeps its connection
 *   only when what is left to discard is small (DRAIN_LIMIT_BYTES);
 * - a declared body is copied once into one buffer of its final size (no chunk list + concat).
 *
 * The reservation is released when the response is done or the connection is gone.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { InferenceError, invalidArgument, shedError } from '../errors';
import type { BytesBudget } from '../admission/bytes-budget';
import type { RuntimeMetrics } from '../metrics';
import type { ModelManager, ModelVersion } from '../models/model-manager';
import { BinaryHeader, decodeBinaryHeader, parseHeaderLength } from './codec';
import { requestTimeoutUs } from './validate';

/** What the reader hands to the route: the whole body, and the binary header when it was validated early. */
export interface InferBody {
  body: Buffer;
  binaryHeader?: BinaryHeader;
  /** Refused by admission once its header was read (the 503 to answer; the body was not read). */
  refused?: Error;
}

/** Bytes the server still discards to keep a connection alive after refusing a request before its body. */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;

/**
 * Lingering close (as Apache and nginx do it): after answering a request whose body is still
 * arriving, the server half-closes (FIN after the response) and keeps discarding what the client
 * sends for a bounded time and amount before closing. Closing at once would reset the connection
 * while the client is still writing, and many clients then fail before reading the answer.
 */
export const LINGER_MS = 2000;
export const LINGER_BYTES = 16 * 1024 * 1024;

export function lingerBeforeClose(socket: Socket): void {
  const s = socket as Socket & { destroySoon?: () => void; [LINGERING]?: boolean };
  if (s[LINGERING]) return;
  s[LINGERING] = true;
  // Node's HTTP server calls destroySoon() once a `Connection: close` response is written.
  s.destroySoon = () => {
    if (s.writable) s.end();
    let discarded = 0;
    const close = () => s.destroy();
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    s.on('data', (c: Buffer) => {
      discarded += c.length;
      if (discarded > LINGER_BYTES) close();
    });
    s.once('close', () => clearTimeout(timer));
  };
}

const LINGERING = Symbol('lingering');

const EMPTY = Buffer.alloc(0);

/** Seconds a client refused for lack of memory budget is told to wait. */
const RETRY_AFTER_SECONDS = 1;

export interface BodyReaderOptions {
  budget: BytesBudget;
  maxBodyBytes: number;
  models: ModelManager;
  metrics: RuntimeMetrics;
}

const HELD = Symbol('heldBytes');
type Held = FastifyRequest & { [HELD]?: { bytes: number } };

interface ModelParams {
  model?: string;
  version?: string;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Registers the reader on a Fastify scope: the content-type parser for every body, the hook that
 * releases reservations, and the keep-alive rule for bodies left unread.
 */
export function registerBodyReader(app: FastifyInstance, opts: BodyReaderOptions): void {
  const { budget, maxBodyBytes, models, metrics } = opts;
  const tooLarge = () =>
    new InferenceError('too_large', `request body is larger than the server's limit of ${maxBodyBytes} bytes; send a smaller batch or raise --max-body-bytes`);
  const overBudget = (req: FastifyRequest, wanted: number) => {
    const v = addressed(req);
    if (v) metrics.countTally(metrics.shed, { model: v.model, version: String(v.version), cause: 'request_bytes' }).n++;
    return shedError(
      `the server holds ${budget.inFlight} bytes of request bodies and ${wanted} more do not fit its budget of ${budget.limit} bytes (--max-request-bytes-in-flight); retry later or elsewhere`,
      RETRY_AFTER_SECONDS,
    );
  };
  const addressed = (req: FastifyRequest): ModelVersion | undefined => {
    const p = req.params as ModelParams | undefined;
    if (!p?.model) return undefined;
    try {
      return models.version(p.model, p.version);
    } catch {
      return undefined;
    }
  };

  // Hooks here and in app.ts take `done` instead of being async: an async hook costs a promise and
  // a microtask per request, measurable on a µs-scale model (issue 15).
  app.addHook('onRequest', (req, reply, next) => {
    if (hasBody(req)) {
      const held = { bytes: 0 };
      (req as Held)[HELD] = held;
      reply.raw.once('close', () => {
        budget.release(held.bytes);
        held.bytes = 0;
      });
    }
    next();
  });

  // A body refused before it was read (e.g. shed in onRequest): Node discards the rest to keep the
  // connection alive; beyond a small amount (or an unknown, chunked amount) the connection closes,
  // after a bounded lingering close so the client can read the answer.
  app.addHook('onSend', (req, reply, payload, next) => {
    if (!req.raw.complete && hasBody(req)) {
      const declared = Number(req.headers['content-length']);
      if (!(declared <= DRAIN_LIMIT_BYTES)) reply.header('connection', 'close');
      if (String(reply.getHeader('connection')).toLowerCase() === 'close') lingerBeforeClose(req.raw.socket);
    }
    next(null, payload);
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req: FastifyRequest, payload: Readable, done: (err: Error | null, body?: InferBody) => void) => {
    const held = (req as Held)[HELD] ?? { bytes: 0 };
    const lengthHeader = req.headers['content-length'];
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    if (declared !== undefined && declared > maxBodyBytes) return refuse(tooLarge());
    if (declared !== undefined) {
      if (!budget.tryReserve(declared)) return refuse(overBudget(req, declared));
      held.bytes += declared;
    }

    // A binary request's JSON header is validated as soon as it is in.
    let jsonLength: number | undefined;
    let version: ModelVersion | undefined;
    const headerLength = firstHeader(req.headers['inference-header-content-length']);
    if (headerLength !== undefined) {
      try {
        jsonLength = parseHeaderLength(headerLength, declared);
        if (jsonLength > 0) version = addressedOrThrow(req);
      } catch (err) {
        return refuse(err as Error);
      }
    }
    let binaryHeader: BinaryHeader | undefined;
    let headerPending = version !== undefined;

    let chunks: Buffer[] = [];
    let whole: Buffer | undefined; // the declared body's final buffer, once the header passed
    let received = 0;
    let finished = false;

    const cleanup = () => {
      finished = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      payload.removeListener('close', onClose);
    };
    const fail = (err: Error) => {
      cleanup();
      chunks = [];
      whole = undefined;
      // Discard the rest as it arrives; Fastify answers with `Connection: close` after a parser error.
      payload.on('error', () => undefined);
      payload.resume();
      done(err);
    };
    const onData = (chunk: Buffer) => {
      if (declared === undefined) {
        if (received + chunk.length > maxBodyBytes) return fail(tooLarge());
        if (!budget.tryReserve(chunk.length)) return fail(overBudget(req, chunk.length));
        held.bytes += chunk.length;
      } else if (received + chunk.length > declared) {
        return fail(invalidArgument('request body is longer than its Content-Length header'));
      }
      if (whole) chunk.copy(whole, received);
      else chunks.push(chunk);
      received += chunk.length;
      if (headerPending && received >= jsonLength!) {
        headerPending = false;
        const head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
        chunks = [head];
        let refused: Error | undefined;
        try {
          binaryHeader = decodeBinaryHeader(head, jsonLength!, version!.signature!, { maxBatchSize: version!.config.maxBatchSize }, declared);
          const timeoutUs = requestTimeoutUs(binaryHeader.header);
          if (timeoutUs !== undefined) refused = version!.queue?.refusal(timeoutUs);
        } catch (err) {
          return fail(err as Error);
        }
        if (refused) return shed(refused);
      }
      if (!headerPending && declared !== undefined && !whole) {
        whole = alignedBody(declared, jsonLength ?? 0);
        let at = 0;
        for (const c of chunks) at += c.copy(whole, at);
        chunks = [];
      }
    };
    // Admission refused the request from its header: answered now (the route throws `refused`),
    // the rest discarded as it arrives; the onSend hook keeps the connection when the rest is small.
    const shed = (refused: Error) => {
      cleanup();
      chunks = [];
      payload.on('error', () => undefined);
      payload.resume();
      done(null, { body: EMPTY, refused });
    };
    const onEnd = () => {
      cleanup();
      if (declared !== undefined && received !== declared) return done(invalidArgument('request body length does not match its Content-Length header'));
      const body = whole ?? (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
      chunks = [];
      done(null, { body, binaryHeader });
    };
    const onError = (err: Error) => {
      if (finished) return;
      cleanup();
      // Aborted uploads: the client is gone; a 400 (never a 500) in case anyone is still listening.
      done(invalidArgument(`the request body could not be read: ${err.message}`));
    };
    const onClose = () => {
      if (finished) return;
      cleanup();
      done(invalidArgument('the client closed the connection before the request body was complete'));
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.on('close', onClose);

    function refuse(err: Error): void {
      // Nothing read: the rest is discarded, and Fastify closes the connection after the answer.
      payload.on('error', () => undefined);
      payload.resume();
      done(err);
    }
  });

  const addressedOrThrow = (req: FastifyRequest): ModelVersion | undefined => {
    const p = req.params as ModelParams | undefined;
    if (!p?.model) return undefined; // not an inference route: nothing to validate early
    return models.version(p.model, p.version);
  };
}

/**
 * A buffer for a declared body whose binary part (after the JSON header of `jsonLength` bytes)
 * starts 8-byte aligned in its ArrayBuffer, so the tensors in it can be viewed in place rather
 * than copied once more into typed storage (decodeBinaryData).
 */
export function alignedBody(declared: number, jsonLength: number): Buffer {
  const raw = Buffer.allocUnsafe(declared + 7);
  const pad = (8 - ((raw.byteOffset + jsonLength) & 7)) & 7;
  return raw.subarray(pad, pad + declared);
}
