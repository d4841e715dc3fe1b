/**
 * A local HTTP endpoint that speaks CloudWatch's PutMetricData as documented
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html): the
 * AWS JSON 1.0 protocol the current SDK sends (`X-Amz-Target: GraniteServiceVersion20100801.PutMetricData`,
 * `application/x-amz-json-1.0`, with CloudWatch's query-compatible error header) and the older Query
 * protocol (`Action=PutMetricData&MetricData.member.N...`), gzip request bodies, SigV4 presence and
 * scope, and the API's limits (1,000 datums, 30 dimensions, StorageResolution 1 or 60, finite values).
 * It stores what it accepted, and can be told to fail or to stall, for the publisher's failure tests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export interface StoredDatum {
  namespace: string;
  metricName: string;
  value: number;
  unit?: string;
  storageResolution: number;
  timestamp: Date;
  dimensions: Record<string, string>;
}

export type EndpointMode = { kind: 'ok' } | { kind: 'error'; status: number; code: string } | { kind: 'stall'; ms: number };

export interface CloudWatchEndpoint {
  url: string;
  datums: StoredDatum[];
  /** Requests received, accepted or not. */
  requests: number;
  /** Why requests were rejected as malformed (a publisher bug, never expected in tests). */
  rejections: string[];
  mode: EndpointMode;
  close(): Promise<void>;
}

class InvalidParameter extends Error {}

interface RawDatum {
  MetricName?: unknown;
  Value?: unknown;
  Unit?: unknown;
  StorageResolution?: unknown;
  Timestamp?: unknown;
  Dimensions?: Array<{ Name?: unknown; Value?: unknown }>;
}

function validate(namespace: unknown, data: RawDatum[] | undefined): StoredDatum[] {
  if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255 || namespace.startsWith('AWS/')) {
    throw new InvalidParameter(`The parameter Namespace must be a value of 1 to 255 characters not starting with AWS/, got ${JSON.stringify(namespace)}`);
  }
  if (!Array.isArray(data) || data.length === 0) throw new InvalidParameter('The parameter MetricData is required');
  if (data.length > 1000) throw new InvalidParameter(`The collection MetricData must not have a size greater than 1000, got ${data.length}`);
  return data.map((d, i) => {
    if (typeof d.MetricName !== 'string' || d.MetricName.length === 0 || d.MetricName.length > 255) throw new InvalidParameter(`MetricData.member.${i + 1}.MetricName is required`);
    const value = Number(d.Value);
    if (d.Value === undefined || !Number.isFinite(value)) throw new InvalidParameter(`MetricData.member.${i + 1}.Value must be a finite number, got ${JSON.stringify(d.Value)}`);
    const resolution = d.StorageResolution === undefined ? 60 : Number(d.StorageResolution);
    if (resolution !== 1 && resolution !== 60) throw new InvalidParameter(`MetricData.member.${i + 1}.StorageResolution must be 1 or 60`);
    const dims = d.Dimensions ?? [];
    if (dims.length > 30) throw new InvalidParameter(`MetricData.member.${i + 1}.Dimensions must not have more than 30 members`);
    const dimensions: Record<string, string> = {};
    for (const dim of dims) {
      if (typeof dim.Name !== 'string' || typeof dim.Value !== 'string' || dim.Value.length === 0) throw new InvalidParameter(`MetricData.member.${i + 1}.Dimensions: Name and Value are required`);
      dimensions[dim.Name] = dim.Value;
    }
    // JSON protocol: epoch seconds; Query protocol: ISO 8601.
    const timestamp = d.Timestamp === undefined ? new Date() : typeof d.Timestamp === 'number' ? new Date(d.Timestamp * 1000) : new Date(String(d.Timestamp));
    if (Number.isNaN(timestamp.getTime())) throw new InvalidParameter(`MetricData.member.${i + 1}.Timestamp is not a timestamp`);
    return { namespace, metricName: d.MetricName, value, unit: d.Unit as string | undefined, storageResolution: resolution, timestamp, dimensions };
  });
}

/** `MetricData.member.1.Dimensions.member.2.Name=…` → nested objects and arrays. */
function parseQuery(body: string): { action?: string; namespace?: string; data: RawDatum[] } {
  const params = new URLSearchParams(body);
  const root: Record<string, unknown> = {};
  for (const [k, v] of params) {
    const parts = k.split('.').filter((p) => p !== 'member');
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = v;
  }
  const list = <T>(o: unknown): T[] => (o && typeof o === 'object' ? Object.keys(o).sort((a, b) => Number(a) - Number(b)).map((k) => (o as Record<string, T>)[k]) : []);
  const data = list<Record<string, unknown>>(root.MetricData).map((d) => ({ ...d, Dimensions: list(d.Dimensions) })) as RawDatum[];
  return { action: root.Action as string | undefined, namespace: root.Namespace as string | undefined, data };
}

export async function startCloudWatchEndpoint(): Promise<CloudWatchEndpoint> {
  const endpoint: CloudWatchEndpoint = { url: '', datums: [], requests: 0, rejections: [], mode: { kind: 'ok' }, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      endpoint.requests++;
      const json = String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.0');
      const fail = (status: number, code: string, message: string) => {
        if (json) {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${code};Sender` });
          res.end(JSON.stringify({ __type: `com.amazonaws.cloudwatch#${code}`, message }));
        } else {
          res.writeHead(status, { 'content-type': 'text/xml' });
          res.end(`<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>local</RequestId></ErrorResponse>`);
        }
      };
      const respond = () => {
        try {
          let body = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
          const auth = String(req.headers.authorization ?? '');
          if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/monitoring\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(auth)) {
            return fail(403, 'MissingAuthenticationToken', 'Request is missing a SigV4 Authorization header for service monitoring');
          }
          if (endpoint.mode.kind === 'error') return fail(endpoint.mode.status, endpoint.mode.code, 'injected by the test');
          let stored: StoredDatum[];
          if (json) {
            if (req.headers['x-amz-target'] !== 'GraniteServiceVersion20100801.PutMetricData') return fail(400, 'UnknownOperationException', `unsupported X-Amz-Target ${req.headers['x-amz-target']}`);
            const input = JSON.parse(body.toString()) as { Namespace?: unknown; MetricData?: RawDatum[] };
            stored = validate(input.Namespace, input.MetricData);
            endpoint.datums.push(...stored);
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
            return res.end('{}');
          }
          const q = parseQuery(body.toString());
          if (q.action !== 'PutMetricData') return fail(400, 'InvalidAction', `unsupported Action ${q.action}`);
          stored = validate(q.namespace, q.data);
          endpoint.datums.push(...stored);
          res.writeHead(200, { 'content-type': 'text/xml' });
          res.end('<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></PutMetricDataResponse>');
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          endpoint.rejections.push(message);
          fail(400, err instanceof InvalidParameter ? 'InvalidParameterValue' : 'MalformedInput', message);
        }
      };
      if (endpoint.mode.kind === 'stall') setTimeout(respond, endpoint.mode.ms);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  endpoint.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return endpoint;
}
