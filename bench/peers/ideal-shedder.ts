/**
 * The floor for answering 503 under overload: node:http with nothing else, discarding each body as
 * it arrives (keeping the connection) and answering every inference request 503 + Retry-After at
 * once. Offered the same open-loop load as onnx-fleet's overload cell, its 503 latency is what the
 * load generator, the kernel's loopback and HTTP alone cost on this machine.
 *
 *   node dist/bench/peers/ideal-shedder.js --port N
 */
import http from 'node:http';
import { KEEP_ALIVE_TIMEOUT_SECONDS } from '../../runtime/contract';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const shedBody = JSON.stringify({ error: 'shed' });
const readyBody = JSON.stringify({ ready: true });

const server = http.createServer((req, res) => {
  const ready = req.method === 'GET' && req.url === '/v2/health/ready';
  const body = ready ? readyBody : shedBody;
  req.resume();
  res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(ready ? {} : { 'retry-after': '1' }) });
  res.end(body);
});
server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_SECONDS * 1000; // as the runtime
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
