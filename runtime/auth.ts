/**
 * Bearer-token authentication for the protocol routes, as a Fastify plugin.
 *
 * Tokens come from `--auth-tokens-file` (one per line; blank lines and `#` comments ignored) and/or
 * `--auth-tokens` (comma-separated). They are kept only as SHA-256 digests and compared with
 * crypto.timingSafeEqual against every configured digest (no early exit), so neither the length
 * nor the content of a token leaks through timing. Requests without a valid token get 401 with the
 * protocol's error body and `WWW-Authenticate: Bearer` before their body is read, so they never
 * reach a queue or a worker. Health, readiness and metrics routes (route config `health: true`)
 * stay open: load balancers and Prometheus must reach them without credentials. Tokens are never
 * logged: failures log only the reason.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface AuthOptions {
  /** Accepted bearer tokens. Empty: authentication is off. */
  tokens: readonly string[];
  /**
   * Tokens for the repository API (routes with config `admin: true`): when given, only these open
   * it, and the inference tokens do not.
   */
  adminTokens?: readonly string[];
}

export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

export const REALM = 'onnx-fleet';

const digest = (token: string | Buffer): Buffer => createHash('sha256').update(token).digest();

/** Splits a tokens file's text: one token per line, `#` comments and blank lines ignored. */
export function parseTokenFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Splits the comma-separated form. */
export function parseTokenList(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Reads the configured tokens. A file that is configured but unreadable or empty, or a token that
 * cannot be sent in an Authorization header, fails the start: an instance must never come up open
 * because its secret did not arrive. The messages name the source, never a token.
 */
export async function loadAuthTokens(config: { authTokensFile?: string; authTokens?: string }): Promise<string[]> {
  const tokens: string[] = [];
  if (config.authTokensFile !== undefined) {
    let text: string;
    try {
      text = await readFile(config.authTokensFile, 'utf8');
    } catch (err) {
      throw new AuthConfigError(`--auth-tokens-file: cannot read ${config.authTokensFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const fromFile = parseTokenFile(text);
    if (fromFile.length === 0) throw new AuthConfigError(`--auth-tokens-file: ${config.authTokensFile} holds no token (one per line expected)`);
    fromFile.forEach((t, i) => {
      if (!TOKEN68.test(t)) throw new AuthConfigError(`--auth-tokens-file: token on non-comment line ${i + 1} has characters a bearer token cannot carry (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =)`);
    });
    tokens.push(...fromFile);
  }
  if (config.authTokens !== undefined) {
    const fromList = parseTokenList(config.authTokens);
    if (fromList.length === 0) throw new AuthConfigError('--auth-tokens: no token given');
    fromList.forEach((t, i) => {
      if (!TOKEN68.test(t)) throw new AuthConfigError(`--auth-tokens: token ${i + 1} has characters a bearer token cannot carry (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =)`);
    });
    tokens.push(...fromList);
  }
  return tokens;
}

/** Constant-time check of a presented token against the configured digests. */
export function makeVerifier(tokens: readonly string[]): (presented: string) => boolean {
  const digests = tokens.map(digest);
  return (presented: string): boolean => {
    const d = digest(presented);
    let match = false;
    for (const expected of digests) {
      // Every digest is compared; `match` only accumulates, so the time does not depend on which matched.
      match = timingSafeEqual(d, expected) || match;
    }
    return match;
  };
}

/** The token of an `Authorization: Bearer <token>` header, or why there is none. */
function bearer(header: string | undefined): { token: string } | { problem: 'missing' | 'malformed' } {
  if (header === undefined || header === '') return { problem: 'missing' };
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!m) return { problem: 'malformed' };
  return { token: m[1] };
}

/** Reads `--admin-tokens-file` (same format and checks as the inference tokens file). */
export async function loadAdminTokens(config: { adminTokensFile?: string }): Promise<string[]> {
  if (config.adminTokensFile === undefined) return [];
  try {
    return await loadAuthTokens({ authTokensFile: config.adminTokensFile });
  } catch (err) {
    throw new AuthConfigError((err as Error).message.replace('--auth-tokens-file', '--admin-tokens-file'));
  }
}

async function authPlugin(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  const admin = opts.adminTokens && opts.adminTokens.length > 0 ? makeVerifier(opts.adminTokens) : undefined;
  if (opts.tokens.length === 0 && !admin) return;
  const inference = opts.tokens.length > 0 ? makeVerifier(opts.tokens) : undefined;
  if (inference) app.log.info({ tokens: opts.tokens.length }, 'bearer-token authentication enabled on protocol routes');
  if (admin) app.log.info({ tokens: opts.adminTokens!.length }, 'separate bearer tokens required on the repository API');

  const reject = (req: FastifyRequest, reply: FastifyReply, reason: string, header: string, message: string) => {
    req.log.info({ reason }, 'unauthenticated request rejected');
    // The body is never read: ask the client not to reuse a connection it may still be writing on.
    return reply
      .code(401)
      .header('www-authenticate', header)
      .header('connection', 'close')
      .type('application/json')
      .send({ error: message });
  };

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.health) return;
    const verify = req.routeOptions.config?.admin && admin ? admin : inference;
    if (!verify) return;
    const found = bearer(req.headers.authorization);
    if ('problem' in found) {
      if (found.problem === 'missing') {
        return reject(req, reply, 'missing', `Bearer realm="${REALM}"`, 'authentication required: send "Authorization: Bearer <token>"');
      }
      return reject(req, reply, 'malformed', `Bearer realm="${REALM}", error="invalid_request"`, 'malformed Authorization header: expected "Bearer <token>"');
    }
    if (!verify(found.token)) {
      return reject(req, reply, 'invalid token', `Bearer realm="${REALM}", error="invalid_token"`, 'invalid bearer token');
    }
  });
}

// Not encapsulated: the hook applies to every route of the instance it is registered on (what fastify-plugin does).
(authPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
(authPlugin as unknown as Record<symbol, string>)[Symbol.for('fastify.display-name')] = 'onnx-fleet-auth';

export { authPlugin };
