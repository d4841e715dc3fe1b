/**
 * The HTTP limit: Fastify as anyone starts it — default body parsing (JSON), no logging —
 * answering every inference request with a constant: `app.post(path, async () => constant)`.
 * What no server built on Fastify can exceed on this machine for the same JSON requests.
 *
 *   node dist/bench/peers/bare-fastify.js --port N
 */
import Fastify from 'fastify';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });

const constant = { model_name: 'constant', model_version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: [0.5, 0.5] }] };
app.post('/v2/models/:model/infer', async () => constant);
app.get('/v2/health/ready', async () => ({ ready: true }));

app.listen({ host: '127.0.0.1', port }).catch((err) => {
  process.stderr.write(`${err}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
