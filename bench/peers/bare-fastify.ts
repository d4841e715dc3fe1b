/**
 * The HTTP limit: Fastify with default settings answering every inference request with a
 * constant, without parsing the body (it is read in full, as any server must). What no server
 * built on Fastify can exceed on this machine for the same requests.
 *
 *   node dist/bench/peers/bare-fastify.js --port N
 */
import Fastify from 'fastify';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

const constant = JSON.stringify({ model_name: 'constant', model_version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: [0.5, 0.5] }] });
app.post('/v2/models/:model/infer', async (_req, reply) => reply.type('application/json').send(constant));
app.get('/v2/health/ready', async () => ({ ready: true }));

app.listen({ host: '127.0.0.1', port }).catch((err) => {
  process.stderr.write(`${err}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
