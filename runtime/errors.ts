/**
 * Errors the runtime turns into Open Inference Protocol error bodies: `{"error": "<message>"}`
 * with Triton's status mapping (INVALID_ARG → 400, NOT_FOUND → 404, UNAVAILABLE → 503, ...).
 */
export type ErrorKind = 'invalid_argument' | 'not_found' | 'unavailable' | 'too_large' | 'unauthenticated' | 'unsupported' | 'internal';

const STATUS: Record<ErrorKind, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  not_found: 404,
  too_large: 413,
  unsupported: 501,
  unavailable: 503,
  internal: 500,
};

export class InferenceError extends Error {
  readonly kind: ErrorKind;
  readonly statusCode: number;
  /** Seconds a client should wait before retrying (503 only). */
  readonly retryAfterSeconds?: number;

  constructor(kind: ErrorKind, message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InferenceError';
    this.kind = kind;
    this.statusCode = STATUS[kind];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const invalidArgument = (message: string): InferenceError => new InferenceError('invalid_argument', message);
export const notFound = (message: string): InferenceError => new InferenceError('not_found', message);
export const unavailable = (message: string, retryAfterSeconds?: number): InferenceError =>
  new InferenceError('unavailable', message, { retryAfterSeconds });

/**
 * A 503 for load shedding (queue full, estimated wait past the deadline, request bytes over
 * budget): built without a stack trace, which nobody reads and whose capture cost the front door
 * 6 % of its time at 3× overload (issue 15), when thousands are refused a second.
 */
export function shedError(message: string, retryAfterSeconds: number): InferenceError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new InferenceError('unavailable', message, { retryAfterSeconds });
  } finally {
    Error.stackTraceLimit = limit;
  }
}
