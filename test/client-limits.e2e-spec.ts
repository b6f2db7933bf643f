import { connect, type Socket } from 'node:net';
import { CLIENT_LIMITS } from '../src/app.setup.js';
import { useHarness } from './support/harness.js';

/** Opens a TCP connection to the app and resolves once it is connected. */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Milliseconds until the server closes the connection, and what it said before. */
function closedAfter(socket: Socket): Promise<{ ms: number; said: string }> {
  const started = Date.now();
  let said = '';
  socket.on('data', (chunk: Buffer) => (said += chunk.toString()));
  return new Promise((resolve) =>
    socket.on('close', () => resolve({ ms: Date.now() - started, said })),
  );
}

describe('Slow and idle clients cannot hold connections', () => {
  const t = useHarness({ app: { maxConnections: 8 } });
  const port = () => Number(new URL(t.baseUrl).port);

  it('cuts slow headers after 10 s, a trickling body after 30 s, an idle keep-alive after 5 s', async () => {
    const slowHeaders = await open(port());
    const headersCut = closedAfter(slowHeaders);
    slowHeaders.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');

    const slowBody = await open(port());
    const bodyCut = closedAfter(slowBody);
    slowBody.write(
      'POST /admin/operations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Authorization: ${t.admin.Authorization}\r\nContent-Length: 1000\r\n\r\n{`,
    );
    // A byte every 2 s: never idle long, never done.
    const trickle = setInterval(() => slowBody.write(' '), 2_000);

    const idle = await open(port());
    const idleCut = closedAfter(idle);
    idle.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');

    try {
      const [headers, body, kept] = await Promise.all([headersCut, bodyCut, idleCut]);
      expect(headers.said).toMatch(/^HTTP\/1\.1 408/);
      expect(headers.ms).toBeGreaterThanOrEqual(CLIENT_LIMITS.headersTimeout - 100);
      expect(headers.ms).toBeLessThan(CLIENT_LIMITS.headersTimeout + 2_500);
      expect(body.said).toMatch(/^HTTP\/1\.1 408/);
      expect(body.ms).toBeGreaterThanOrEqual(CLIENT_LIMITS.requestTimeout - 100);
      expect(body.ms).toBeLessThan(CLIENT_LIMITS.requestTimeout + 2_500);
      expect(kept.said).toMatch(/^HTTP\/1\.1 200/);
      expect(kept.ms).toBeGreaterThanOrEqual(CLIENT_LIMITS.keepAliveTimeout - 100);
      expect(kept.ms).toBeLessThan(CLIENT_LIMITS.keepAliveTimeout + 2_500);
    } finally {
      clearInterval(trickle);
    }
    expect(await t.db.query('SELECT count(*)::int AS n FROM operations')).toEqual([{ n: 0 }]);
  }, 45_000);

  it('holds at most MAX_CONNECTIONS at once: the next is closed at once, the service goes on', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => open(port())));
    const extra = await open(port());
    const refused = await closedAfter(extra);
    expect(refused).toEqual({ ms: expect.any(Number), said: '' });
    expect(refused.ms).toBeLessThan(1_000);

    await Promise.all(
      held.map((socket) => new Promise<void>((resolve) => socket.end(() => resolve()))),
    );
    // Once the held ones are gone, the service answers again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await t.http.get('/health').expect(200);
  });
});
