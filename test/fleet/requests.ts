/** The requests the fleet tests send: a light one (iris, JSON) and a heavy one (text-orientation, binary tensor data). */
import type { LoadRequest } from '../helpers/load';

export const IRIS_BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });

export const irisRequest = (headers: Record<string, string> = {}): LoadRequest => ({ method: 'POST', path: '/v2/models/iris/infer', body: IRIS_BODY, headers });

/** One 1×3×48×192 image as binary tensor data behind a JSON header (Inference-Header-Content-Length). */
export function heavyRequest(headers: Record<string, string> = {}): LoadRequest {
  const n = 3 * 48 * 192;
  const tensor = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) tensor.writeFloatLE(((i * 7919) % 255) / 255, i * 4);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], parameters: { binary_data_size: tensor.length } }] }));
  return {
    method: 'POST',
    path: '/v2/models/text-orientation/infer',
    body: Buffer.concat([header, tensor]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length), ...headers },
  };
}
