/**
 * A small declarative schema kit for Pulumi stack configuration. One definition per key (its kind,
 * default per environment, allowed values, description, cross-key checks) drives three things:
 * validation with errors that name the key, the value and what is allowed; the JSON Schema editors
 * use; and the README's configuration reference.
 *
 * Why not zod/TypeBox: defaults here depend on the environment and on keys declared above (the
 * zone count, the instance type), top-level values arrive as Pulumi's strings while nested ones are
 * JSON, and the error texts are a promise users and tests rely on. Validating stack *files* against
 * the generated JSON Schema is ajv's job (see test/infra/config-schema.test.ts).
 */

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const show = (v: unknown): string => JSON.stringify(v);

/** A JSON Schema fragment (draft-07), with the yaml-language-server's `markdownDescription`. */
export type JsonSchema = Record<string, unknown>;

/**
 * What defaults, resolvers and checks see: the environment, `prod`, and every top-level key decoded
 * so far (declaration order). Checks run after every key is decoded, so they see the whole config.
 */
export type Ctx = { environment: Environment; prod: boolean; [key: string]: any };

/** Where a value is decoded: its full path for messages, whether it is a Pulumi top-level value (a string). */
export interface At {
  path: string;
  top: boolean;
  ctx: Ctx;
  /** The config namespace (`onnx-fleet`), for messages that name other keys. */
  namespace: string;
  /** Checks queued while decoding, run once the whole config is decoded. */
  pending: Array<() => void>;
  /** Platform errors (a key for the other platform, or missing on its own), reported last. */
  late: Array<() => void>;
}

export interface Kind<T> {
  /** The reference's Type column: integer, boolean, string, number, object, list of string… */
  readonly type: string;
  /** What is accepted, in words: "an integer from 1 to 64". Errors end with it. */
  readonly expected: string;
  /** The reference's Allowed column (Markdown); defaults to `expected`. */
  readonly allowed?: string;
  /** Objects: their fields. Lists: their item kind. */
  readonly fields?: Fields;
  readonly item?: Kind<unknown>;
  decode(raw: unknown, at: At): T;
  /** JSON Schema of the value as written in a stack file (`top`: a value directly under `config:`). */
  schema(top: boolean): JsonSchema;
}

const fail = (at: { path: string }, raw: unknown, expected: string): never => {
  throw new ConfigError(`${at.path}: got ${show(raw)}, expected ${expected}`);
};

/** Pulumi hands a program top-level values as strings (YAML `shards: 0` arrives as "0"). */
const numeric = (v: string) => /^-?\d+(\.\d+)?$/.test(v.trim());
/** Numbers are shown as numbers, anything else quoted. */
const shown = (raw: unknown) => (typeof raw === 'string' && numeric(raw) ? raw.trim() : show(raw));

export function int(min: number, max: number): Kind<number> {
  const expected = `an integer from ${min} to ${max}`;
  return {
    type: 'integer',
    expected,
    allowed: `${min}–${max}`,
    decode(raw, at) {
      const n = typeof raw === 'string' && at.top && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${at.path}: got ${shown(raw)}, expected ${expected}`);
      return n;
    },
    schema: (top) => {
      const s = { type: 'integer', minimum: min, maximum: max };
      return top ? { anyOf: [s, { type: 'string', pattern: '^\\s*-?\\d+\\s*$' }] } : s;
    },
  };
}

/** A number within (exclusiveMin, max]. */
export function number(exclusiveMin: number, max: number, expected: string): Kind<number> {
  return {
    type: 'number',
    expected,
    allowed: `> ${exclusiveMin}, ≤ ${max}`,
    decode(raw, at) {
      const n = typeof raw === 'string' && at.top && numeric(raw) ? Number(raw) : raw;
      if (typeof n !== 'number' || !(n > exclusiveMin && n <= max)) throw new ConfigError(`${at.path}: got ${shown(raw)}, expected ${expected}`);
      return n;
    },
    schema: (top) => {
      const s = { type: 'number', exclusiveMinimum: exclusiveMin, maximum: max };
      return top ? { anyOf: [s, { type: 'string', pattern: '^\\s*-?\\d+(\\.\\d+)?\\s*$' }] } : s;
    },
  };
}

export function bool(): Kind<boolean> {
  return {
    type: 'boolean',
    expected: 'true or false',
    allowed: '`true`, `false`',
    decode(raw, at) {
      if (at.top && (raw === 'true' || raw === 'false')) return raw === 'true';
      if (typeof raw !== 'boolean') fail(at, raw, 'true or false');
      return raw as boolean;
    },
    schema: (top) => (top ? { anyOf: [{ type: 'boolean' }, { enum: ['true', 'false'] }] } : { type: 'boolean' }),
  };
}

export function oneOf<const V extends readonly string[]>(values: V): Kind<V[number]> {
  const expected = `one of ${values.join(', ')}`;
  return {
    type: 'string',
    expected,
    allowed: values.map((v) => `\`${v}\``).join(', '),
    decode(raw, at) {
      if (typeof raw !== 'string' || !values.includes(raw)) fail(at, raw, expected);
      return raw as V[number];
    },
    schema: () => ({ type: 'string', enum: [...values] }),
  };
}

/** A value refused with its own explanation before the pattern applies (e.g. an SSM parameter for an AMI id). */
export interface Refusal {
  when: RegExp;
  expected: string;
}

/** A non-empty string, optionally matching `pattern`; `expected` says what it is in words. */
export function text(expected: string, pattern?: RegExp, refusals: Refusal[] = []): Kind<string> {
  const code = (re: RegExp) => `\`${re.source}\``;
  return {
    type: 'string',
    expected,
    allowed: [pattern ? `${expected} (${code(pattern)})` : expected, ...refusals.map((r) => `not ${code(r.when)}`)].join('; '),
    decode(raw, at) {
      const refused = typeof raw === 'string' ? refusals.find((r) => r.when.test(raw)) : undefined;
      if (refused) fail(at, raw, refused.expected);
      if (typeof raw !== 'string' || raw.length === 0 || (pattern && !pattern.test(raw))) fail(at, raw, expected);
      return raw as string;
    },
    schema: () => {
      const s: JsonSchema = { type: 'string', minLength: 1, ...(pattern ? { pattern: pattern.source } : {}) };
      if (refusals.length) s.not = { anyOf: refusals.map((r) => ({ pattern: r.when.source })) };
      return s;
    },
  };
}

/** A list; `expected` describes the whole list (shown when the value is not a list or too short). */
export function list<T>(item: Kind<T>, expected: string, minItems = 0): Kind<T[]> {
  return {
    type: `list of ${item.type}`,
    expected,
    allowed: item.fields ? `${expected}${minItems ? ` (at least ${minItems})` : ''}` : `${item.allowed ?? item.expected}${minItems ? `, at least ${minItems}` : ''}`,
    item: item as Kind<unknown>,
    decode(raw, at) {
      if (!Array.isArray(raw) || raw.length < minItems) fail(at, raw, expected);
      return (raw as unknown[]).map((v, i) => item.decode(v, { ...at, path: `${at.path}[${i}]`, top: false }));
    },
    schema: () => ({ type: 'array', minItems, items: secureOr(item.schema(false)) }),
  };
}

/** A check another key (or the environment) constrains: `doc` goes in the reference's Allowed column. */
export interface Check<T = any> {
  doc: string;
  /** Returns what follows `<key>: ` in the error when the value breaks the check, else undefined. */
  test(value: T, config: Ctx): string | undefined;
}

type Presence = 'always' | 'optional' | 'removed';

export class Default<T> {
  /** `doc`: per environment, what the reference shows. */
  constructor(readonly doc: Record<Environment, string>, readonly value: (ctx: Ctx) => T, readonly json?: T) {}
}

const docValue = (v: unknown) => (v === undefined ? '—' : `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``);

/** A default that differs by environment. */
export function byEnv<const T>(values: Record<Environment, T>): Default<T> {
  const doc = Object.fromEntries(ENVIRONMENTS.map((e) => [e, docValue(values[e])])) as Record<Environment, string>;
  const same = ENVIRONMENTS.every((e) => JSON.stringify(values[e]) === JSON.stringify(values.dev));
  return new Default(doc, (ctx) => values[ctx.environment], same ? values.dev : undefined);
}

/** A default computed from keys declared above; `doc` says how (per environment when it differs). */
export function derived<T>(doc: string | Record<Environment, string>, value: (ctx: Ctx) => T): Default<T> {
  return new Default(typeof doc === 'string' ? { dev: doc, staging: doc, prod: doc } : doc, value);
}

export interface FieldOptions<T> {
  description: string;
  default?: T | Default<T>;
  /** The Pulumi key when it is not `<namespace>:<name>` (top level only), e.g. `aws:region`. */
  configKey?: string;
  /** The error when a required key is missing (after `<key>: `); default `missing, expected <expected>`. */
  missing?: string | ((ctx: Ctx) => string);
  /** Appended (after `; `) to this key's decode and missing errors: how to find a good value. */
  hint?: (ctx: Ctx) => string;
  /** platformOnly: the error (after `set, but <ns>:platform is "<p>"; `) for a value set on another platform. */
  elsewhere?: string;
  checks?: Check<T>[];
}

/** One key (top level) or field (inside an object): how it decodes, its default, checks and docs. */
export class Field<T, P extends Presence = Presence> {
  constructor(
    readonly presence: P,
    readonly kind: Kind<any> | undefined,
    readonly options: FieldOptions<any> & {
      required?: boolean;
      /** Only on this platform: set elsewhere is an error, absent there is fine. */
      platform?: string;
      removed?: { use?: string; why: string };
      /** Turns the decoded value into what the program uses (e.g. a zone count into zone names). */
      resolve?: (v: any, ctx: Ctx) => unknown;
    },
  ) {}

  get description(): string {
    return this.options.description;
  }

  get default(): Default<unknown> | undefined {
    const d = this.options.default;
    return d === undefined ? undefined : d instanceof Default ? d : byEnv({ dev: d, staging: d, prod: d });
  }

  get checks(): Check[] {
    return this.options.checks ?? [];
  }

  /** The decoded value becomes `fn(value, ctx)` for the program (the type follows). */
  to<U>(fn: (v: T, ctx: Ctx) => U): Field<U, P> {
    return new Field<U, P>(this.presence, this.kind, { ...this.options, resolve: fn });
  }
}

/** A key with a value in every stack: its default, or an error when `required` and absent. */
export function key<T>(kind: Kind<T>, options: FieldOptions<NoInfer<T>> & ({ default: NoInfer<T> | Default<NoInfer<T>> } | { required: true })): Field<T, 'always'> {
  return new Field<T, 'always'>('always', kind, options);
}

/** An object key whose absence means every field's default (`spot`, `database`, …). */
export function group<F extends Fields>(fields: F, options: FieldOptions<Infer<F>> & ObjectOptions): Field<Infer<F>, 'always'> {
  return new Field<Infer<F>, 'always'>('always', object(fields, options), { ...options, checks: undefined });
}

/** A key that may be absent (no default). */
export function optional<T>(kind: Kind<T>, options: FieldOptions<NoInfer<T>>): Field<T | undefined, 'optional'> {
  return new Field<T | undefined, 'optional'>('optional', kind, options);
}

/** A key that exists only on one platform: required there (`missing` is the error), an error elsewhere. */
export function platformOnly<T>(platform: string, kind: Kind<T>, options: FieldOptions<NoInfer<T>>): Field<T | undefined, 'optional'> {
  return new Field<T | undefined, 'optional'>('optional', kind, { ...options, platform, required: true });
}

/**
 * A key that no longer exists: setting it is an error naming its replacement. Keep the entry (it
 * documents the migration in the reference) where the key used to be.
 */
export function removed(change: { use?: string; why: string }): Field<never, 'removed'> {
  return new Field<never, 'removed'>('removed', undefined, { description: change.why, removed: change });
}

export type Fields = Record<string, Field<any>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ValueOf<F> = F extends Field<infer T, any> ? T : never;
/** The TypeScript type of an object's decoded value: keys that always have a value, then optional ones. */
export type Infer<F extends Fields> = Simplify<
  { [K in keyof F as F[K] extends Field<any, 'always'> ? K : never]: ValueOf<F[K]> } & {
    [K in keyof F as F[K] extends Field<any, 'optional'> ? K : never]?: Exclude<ValueOf<F[K]>, undefined>;
  }
>;

export interface ObjectOptions {
  /** The error text for a value that is not an object; default "an object". */
  expected?: string;
  /** Checks over the whole object (e.g. min ≤ desired ≤ max), reported at the object's path. */
  checks?: Check[];
}

/** Resolved `<namespace>:<name>` of a top-level key, set by the root. */
export interface Naming {
  namespace: string;
}

function decodeFields(fields: Fields, raw: Record<string, unknown>, at: At, root?: Naming): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    const path = root ? (field.options.configKey ?? `${root.namespace}:${name}`) : `${at.path}.${name}`;
    const here: At = { ...at, path, top: !!root };
    let value = raw[root ? path : name];
    if (root && value === '') value = undefined; // Pulumi: an empty top-level value is no value
    const { platform, removed: gone, required, resolve, missing, hint, elsewhere } = field.options;
    const hinted = (message: string) => (hint ? `${message}; ${hint(at.ctx)}` : message);
    if (gone) {
      if (value !== undefined) {
        const use = gone.use ? `; use ${at.namespace}:${gone.use} instead` : '';
        throw new ConfigError(`${path}: removed${use} (${gone.why})`);
      }
      continue;
    }
    const missingError = () => new ConfigError(hinted(`${path}: ${typeof missing === 'function' ? missing(at.ctx) : (missing ?? `missing, expected ${field.kind!.expected}`)}`));
    if (platform !== undefined) {
      const current = at.ctx.platform;
      if (current !== platform) {
        if (value !== undefined) {
          const p = `${at.namespace}:platform`;
          at.late.push(() => {
            throw new ConfigError(`${path}: set, but ${p} is ${show(current)}; ${elsewhere ?? `expected ${p}: ${platform} or no ${path} key`}`);
          });
        }
        continue;
      }
      if (value === undefined) {
        at.late.push(() => {
          throw missingError();
        });
        continue;
      }
    }
    let v: unknown;
    if (value !== undefined) {
      try {
        v = field.kind!.decode(value, here);
      } catch (err) {
        throw err instanceof ConfigError && hint ? new ConfigError(hinted(err.message)) : err;
      }
    } else if (field.default) v = field.default.value(at.ctx);
    else if (required) throw missingError();
    else if (field.kind?.fields) v = field.kind.decode({}, { ...here, top: false }); // an absent group: its fields' defaults
    // Checks see the value as written (a zone count), the program the resolved one (zone names).
    const written = v;
    if (resolve && v !== undefined) v = resolve(v, at.ctx);
    out[name] = v;
    if (root) {
      at.ctx[name] = v;
      if (name === 'environment') at.ctx.prod = v === 'prod';
    }
    for (const check of field.checks) {
      at.pending.push(() => {
        const message = check.test(written, at.ctx);
        if (message !== undefined) throw new ConfigError(`${path}: ${message}`);
      });
    }
  }
  return out;
}

export function object<F extends Fields>(fields: F, options: ObjectOptions = {}): Kind<Infer<F>> {
  const expected = options.expected ?? 'an object';
  const names = Object.keys(fields).filter((n) => fields[n].presence !== 'removed');
  return {
    type: 'object',
    expected,
    allowed: 'see the fields below',
    fields,
    decode(raw, at) {
      let value = raw;
      if (at.top && typeof raw === 'string') {
        try {
          value = JSON.parse(raw);
        } catch {
          fail(at, raw, expected);
        }
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(at, raw, expected);
      const obj = value as Record<string, unknown>;
      for (const f of Object.keys(obj)) {
        if (!Object.hasOwn(fields, f)) throw new ConfigError(`${at.path}: unknown field ${show(f)}, expected fields: ${names.join(', ')}`);
      }
      const out = decodeFields(fields, obj, { ...at, top: false });
      for (const check of options.checks ?? []) {
        at.pending.push(() => {
          const message = check.test(out, at.ctx);
          if (message !== undefined) throw new ConfigError(`${at.path}: ${message}`);
        });
      }
      return out as Infer<F>;
    },
    schema: () => objectSchema(fields),
  };
}

/** `{secure: <ciphertext>}`: Pulumi's encrypted value (`pulumi config set --secret`), allowed anywhere. */
export const SECURE_REF = { $ref: '#/definitions/secure' };
export const SECURE_DEFINITION: JsonSchema = {
  type: 'object',
  description: 'An encrypted value written by `pulumi config set --secret` (Pulumi decrypts it for the program).',
  properties: { secure: { type: 'string', minLength: 1 } },
  required: ['secure'],
  additionalProperties: false,
};

export function secureOr(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: [...schema.anyOf, SECURE_REF] };
  return { anyOf: [schema, SECURE_REF] };
}

/** Words for the editor's hover: description, default per environment, checks. */
export function fieldDocs(field: Field<any>): { description: string; markdownDescription: string } {
  const d = field.default;
  const lines = [field.description];
  if (d) {
    const same = ENVIRONMENTS.every((e) => d.doc[e] === d.doc.dev);
    lines.push(same ? `Default: ${d.doc.dev}` : `Default: ${ENVIRONMENTS.map((e) => `${e} ${d.doc[e]}`).join(', ')}`);
  }
  for (const c of field.checks) lines.push(`Must be: ${c.doc}`);
  return { description: lines.join('\n').replace(/`/g, ''), markdownDescription: lines.join('\n\n') };
}

/** The JSON Schema of one field's value, with its docs; a removed key allows no value. */
export function fieldSchema(field: Field<any>, top: boolean): JsonSchema {
  const docs = fieldDocs(field);
  if (field.options.removed) {
    const { use, why } = field.options.removed;
    const message = `Removed${use ? `: use ${use} instead` : ''} (${why})`;
    return { not: {}, description: message, deprecationMessage: message, errorMessage: message };
  }
  const schema = secureOr(field.kind!.schema(top));
  const d = field.default;
  return { ...docs, ...schema, ...(d?.json !== undefined ? { default: d.json } : {}) };
}

export function objectSchema(fields: Fields): JsonSchema {
  const required = Object.entries(fields)
    .filter(([, f]) => f.options.required && f.options.platform === undefined && !f.default)
    .map(([n]) => n);
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(fields).map(([n, f]) => [n, fieldSchema(f, false)])),
    additionalProperties: false,
    ...(required.length ? { required } : {}),
  };
}

/** Edit distance, to suggest the key a typo meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The top-level keys a stack may set in the namespace (removed ones are known, but not listed). */
export function namespaceKeys(fields: Fields): string[] {
  return Object.keys(fields).filter((n) => fields[n].options.configKey === undefined && fields[n].presence !== 'removed');
}

/** Decodes a flat Pulumi config map (`<namespace>:<key>` → string) against the root fields. */
export function decodeRoot(fields: Fields, naming: Naming, raw: Record<string, string | undefined>): Record<string, unknown> {
  const ns = naming.namespace;
  const known = namespaceKeys(fields);
  for (const k of Object.keys(raw)) {
    const name = k.slice(ns.length + 1);
    if (k.startsWith(`${ns}:`) && !(Object.hasOwn(fields, name) && fields[name].options.configKey === undefined)) {
      const near = known.filter((other) => distance(name, other) <= 2);
      const hint = near.length ? `did you mean ${near.map((n) => `${ns}:${n}`).join(' or ')}? ` : '';
      throw new ConfigError(`${k}: unknown key; ${hint}known keys: ${known.map((n) => `${ns}:${n}`).join(', ')}`);
    }
  }
  const ctx: Ctx = { environment: 'dev', prod: false };
  const at: At = { path: naming.namespace, top: true, ctx, namespace: naming.namespace, pending: [], late: [] };
  const out = decodeFields(fields, raw, at, naming);
  for (const run of [...at.pending, ...at.late]) run();
  return out;
}

/** One row per key path, depth first: objects, then their fields; list items as `name[]`. */
export interface KeyEntry {
  /** `database.instanceClass`, `scaling.schedules[].name`, or the full key when not in the namespace (`aws:region`). */
  path: string;
  field: Field<any>;
  depth: number;
}

export function walk(fields: Fields, naming: Naming, prefix = '', depth = 0): KeyEntry[] {
  const rows: KeyEntry[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const path = depth === 0 && field.options.configKey ? field.options.configKey : `${prefix}${name}`;
    rows.push({ path, field, depth });
    const kind = field.kind;
    if (kind?.fields) rows.push(...walk(kind.fields, naming, `${path}.`, depth + 1));
    else if (kind?.item?.fields) rows.push(...walk(kind.item.fields, naming, `${path}[].`, depth + 1));
  }
  return rows;
}
