/**
 * Large JSON decodes take turns with the rest of the event loop (main-thread-slices.ts): an I/O
 * callback that arrives while many are queued is handled after a slice, not after all of them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MainThreadSlices } from '../../runtime/scheduling/main-thread-slices';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

test('tasks run in order, each settling its own promise with its result or error', async () => {
  const slices = new MainThreadSlices(2);
  const ran: number[] = [];
  const results = await Promise.allSettled([1, 2, 3].map((i) => slices.run(() => {
    ran.push(i);
    if (i === 2) throw new Error('bad body');
    return i * 10;
  })));
  expect(ran).toEqual([1, 2, 3]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([10, 'bad body', 30]);
  expect(slices.waiting).toBe(0);
});

test('a request arriving while 40 decodes of 3 ms are queued is answered after a slice, not after all of them', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true });
  const get = () => new Promise<void>((resolve, reject) => http.get({ port, host: '127.0.0.1', agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
  try {
    await get(); // the connection is open and kept
    const slices = new MainThreadSlices(2);
    let done = 0;
    const tasks = Array.from({ length: 40 }, () => slices.run(() => {
      busy(3);
      done++;
    }));
    const probe = get().then(() => done);
    const answeredAfter = await probe;
    await Promise.all(tasks);
    expect(done).toBe(40);
    // One slice runs one 3 ms task (beyond its 2 ms): the probe waits a few turns at most.
    expect(answeredAfter).toBeLessThan(10);
  } finally {
    agent.destroy();
    await new Promise((r) => server.close(r));
  }
});
