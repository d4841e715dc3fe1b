/**
 * PostgreSQL connection URLs in libpq's URI form, multi-host included (no dependency on pg, so
 * configuration validation can use it).
 */
import type { ClientConfig } from 'pg';

export interface PgHost {
  host: string;
  port: number;
}

export interface PgTarget {
  hosts: PgHost[];
  user?: string;
  password?: string;
  database?: string;
  connectTimeoutMs?: number;
  ssl?: ClientConfig['ssl'];
  applicationName?: string;
  targetSessionAttrs: 'any' | 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby';
}

export class PgUrlError extends Error {}

const SESSION_ATTRS = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'] as const;

/** Parses postgres[ql]://[user[:password]@]host[:port][,host[:port]…][/database][?params] (libpq's URI form, multi-host included). */
export function parsePostgresUrl(url: string): PgTarget {
  const m = /^postgres(?:ql)?:\/\/(?:([^@/]*)@)?([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/.exec(url.trim());
  if (!m) throw new PgUrlError(`${redactUrl(url)} is not a PostgreSQL URL; expected postgresql://user:password@host:port[,host:port…]/database`);
  const [, auth, hostList, db, query] = m;
  const hosts = hostList.split(',').filter((h) => h !== '').map((h): PgHost => {
    const hm = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    if (!hm) throw new PgUrlError(`${redactUrl(url)}: bad host ${JSON.stringify(h)}`);
    return { host: decodeURIComponent(hm[1].replace(/^\[|\]$/g, '')), port: hm[2] ? Number(hm[2]) : 5432 };
  });
  if (hosts.length === 0) throw new PgUrlError(`${redactUrl(url)}: no host`);
  const target: PgTarget = { hosts, targetSessionAttrs: 'any' };
  if (auth !== undefined) {
    const i = auth.indexOf(':');
    target.user = decodeURIComponent(i === -1 ? auth : auth.slice(0, i));
    if (i !== -1) target.password = decodeURIComponent(auth.slice(i + 1));
  }
  if (db) target.database = decodeURIComponent(db);
  for (const [k, v] of new URLSearchParams(query ?? '')) {
    switch (k) {
      case 'target_session_attrs':
        if (!(SESSION_ATTRS as readonly string[]).includes(v)) throw new PgUrlError(`${redactUrl(url)}: target_session_attrs must be one of ${SESSION_ATTRS.join(', ')}`);
        target.targetSessionAttrs = v as PgTarget['targetSessionAttrs'];
        break;
      case 'connect_timeout':
        target.connectTimeoutMs = Number(v) * 1000;
        break;
      case 'sslmode':
        target.ssl = v === 'disable' || v === 'allow' || v === 'prefer' ? false : v === 'require' ? { rejectUnauthorized: false } : {};
        break;
      case 'application_name':
        target.applicationName = v;
        break;
      case 'user':
        target.user = v;
        break;
      case 'password':
        target.password = v;
        break;
      default:
      // Other libpq parameters do not change how this runtime connects.
    }
  }
  return target;
}

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:@/]*:)[^@/]*@/, '$1***@').replace(/([?&]password=)[^&]*/, '$1***');
}


/** Splits a comma-separated list of URLs; commas inside a multi-host URL's host list stay with it. */
export function splitUrlList(text: string): string[] {
  return text.split(/,(?=\s*postgres(?:ql)?:\/\/)/).map((u) => u.trim()).filter((u) => u !== '');
}
