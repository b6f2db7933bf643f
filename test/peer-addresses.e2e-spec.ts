import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { freePort } from '../src/common/free-port.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { useHarness, type FakePeer, type TestApp } from './support/harness.js';

/**
 * DESIGN section 11: no connection into private networks. Whoever holds a token A chooses the URL
 * the service calls back (FromIOP), and the admin the one it registers to (ToIOP); with
 * ALLOW_PRIVATE_PEER_ADDRESSES off (the default), no address that is loopback, private,
 * link-local, shared, unique-local, unspecified, multicast or otherwise reserved is connected to,
 * however the URL spells it, and stored URLs are checked again at each use. A listener on every
 * local address counts the connections that reach it: none may. The same peers work with the
 * setting on. (URLs found in a peer's answers and redirects, checked at each connection, are in
 * src/handshake/peer-client.spec.ts: they need a peer the check lets through.)
 *
 * Whatever fails below HTTP is told in one message, after the whole timeout: a closed, an open,
 * a silent and a TLS port look the same to whoever chose the URL.
 */

const TIMEOUT_MS = 500;

/** A server on every local address (IPv4 and IPv6) that counts connections and drops them. */
async function countingListener(): Promise<{ port: number; count: () => number; server: Server }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  server.listen({ port: 0, host: '::', ipv6Only: false });
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, count: () => connections, server };
}

/** A loopback TCP proxy to `targetPort` that counts the connections it gets. */
async function countingProxy(targetPort: number) {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    count: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Hosts the listener answers on, as a URL may spell them (IP literals: refused before any
 * handshake, 400), and names that resolve to them (refused when connecting: 3001 / 502).
 */
const LOOPBACK_LITERALS = [
  '127.0.0.1',
  '127.0.0.2',
  '0x7f000001',
  '2130706433',
  '0177.0.0.1',
  '127.1',
  '0.0.0.0',
  '[::1]',
  '[::ffff:127.0.0.1]',
  '[::ffff:7f00:2]',
  '[::]',
];
const LOOPBACK_NAMES = ['localhost', 'LocalHost'];
/** Not on this machine (a connection would go out, or time out): refused all the same. */
const OTHER_PRIVATE = [
  '169.254.169.254',
  '10.0.0.1',
  '172.16.0.1',
  '192.168.1.1',
  '100.64.0.1',
  '192.0.0.1',
  '198.18.0.1',
  '224.0.0.1',
  '240.0.0.1',
  '255.255.255.255',
  '[fd00::1]',
  '[fe80::1]',
  '[ff02::1]',
  '[::ffff:a9fe:a9fe]',
];

/** What a refused literal is answered with: refused as private, or not even a URL we call. */
const LITERAL_REFUSED =
  /host \S+ is a private address \([\w-]+\), which is refused \(ALLOW_PRIVATE_PEER_ADDRESSES is off; a peer on a private network must be named in PEER_HOST_ALLOWLIST\)|must be an absolute http\(s\) URL/;
const NAME_REFUSED =
  /host localhost resolves to a private address, which is refused \(ALLOW_PRIVATE_PEER_ADDRESSES is off; a peer on a private network must be named in PEER_HOST_ALLOWLIST\)/;

describe('Peer addresses', () => {
  /** The service as deployed: ALLOW_PRIVATE_PEER_ADDRESSES off. */
  const t = useHarness({
    app: { allowPrivatePeerAddresses: false, peerTimeoutMs: TIMEOUT_MS },
    reachable: true,
  });
  /** The same service with the setting on, on the same database. */
  let open: TestApp;
  let listener: Awaited<ReturnType<typeof countingListener>>;
  let tokenA: string;

  beforeAll(async () => {
    listener = await countingListener();
    t.onClose(() => new Promise<void>((resolve) => listener.server.close(() => resolve())));
    open = await t.startApp(
      { allowPrivatePeerAddresses: true, peerTimeoutMs: TIMEOUT_MS },
      { reachable: true },
    );
    await createOperation(t, 'FR*PA0');
    tokenA = await mintTokenA(t, 'FR*PA0');
  });

  const fromIop = (app: TestApp, url: string, token = tokenA, operation = 'PA0') =>
    app.http
      .post(`/ocpi/FR/${operation}/2.1.1/credentials`)
      .set(tokenHeader(token))
      .send({
        url,
        token: 'peer-token-for-pa0',
        party_id: 'EVL',
        country_code: 'FR',
        business_details: { name: 'Who chose the URL' },
      });
  const register = (app: TestApp, versionsUrl: string, operation = 'FR*PA0') =>
    app.http
      .post(`/admin/operations/${operation}/register`)
      .set(app.admin)
      .send({ versions_url: versionsUrl, token: 'token-a-of-the-peer' });

  const url = (host: string) => `http://${host}:${listener.port}/ocpi/versions`;

  describe('with ALLOW_PRIVATE_PEER_ADDRESSES off', () => {
    it.each([...LOOPBACK_LITERALS, ...OTHER_PRIVATE])(
      'FromIOP: a POST whose url is at %s is refused with 400 / 2001, no connection',
      async (host) => {
        const response = await fromIop(t.app, url(host));
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({
          status_code: 2001,
          status_message: expect.stringMatching(LITERAL_REFUSED),
        });
        expect(response.body.status_message).toMatch(/\burl: /);
        expect(listener.count()).toBe(0);
      },
    );

    it.each([...LOOPBACK_LITERALS, ...OTHER_PRIVATE])(
      'ToIOP: register to a versions_url at %s is refused with 400, no connection',
      async (host) => {
        const response = await register(t.app, url(host));
        expect(response.status).toBe(400);
        expect(response.body.fields).toEqual([
          { field: 'versions_url', message: expect.stringMatching(LITERAL_REFUSED) },
        ]);
        expect(listener.count()).toBe(0);
      },
    );

    it.each(LOOPBACK_NAMES)(
      'FromIOP: a POST whose url names %s answers 3001 when connecting, and connects nowhere',
      async (host) => {
        const response = await fromIop(t.app, url(host)).expect(200);
        expect(response.body).toMatchObject({
          status_code: 3001,
          status_message: expect.stringMatching(NAME_REFUSED),
        });
        expect(listener.count()).toBe(0);
        // Token A still works: nothing was stored.
        await t.http.get('/ocpi/FR/PA0/versions').set(tokenHeader(tokenA)).expect(200);
      },
    );

    it.each(LOOPBACK_NAMES)(
      'ToIOP: register to a versions_url naming %s answers 502 at versions, and connects nowhere',
      async (host) => {
        const response = await register(t.app, url(host)).expect(502);
        expect(response.body).toEqual({
          status: 502,
          step: 'versions',
          error: expect.stringMatching(NAME_REFUSED),
        });
        expect(listener.count()).toBe(0);
      },
    );

    it('refuses at once: a refused address is not a peer that did not answer', async () => {
      const started = Date.now();
      await register(t.app, url('localhost')).expect(502);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
    });
  });

  describe('URLs stored at registration are checked again at each use', () => {
    /** A fake peer behind a counting proxy, handing out URLs at `host`. */
    async function peerAt(host: 'localhost' | '127.0.0.1') {
      const peer = await t.startPeer();
      const proxy = await countingProxy(peer.port);
      t.onClose(() => proxy.close());
      peer.baseUrl = `http://${host}:${proxy.port}`;
      return { peer, proxy };
    }

    const registered: {
      operation: string;
      peer: FakePeer;
      proxy: Awaited<ReturnType<typeof countingProxy>>;
      refused: RegExp;
    }[] = [];

    beforeAll(async () => {
      // Registered ToIOP and FromIOP with the setting on; named and literal loopback URLs.
      for (const [operation, host, how] of [
        ['FR*PA1', 'localhost', 'ToIOP'],
        ['FR*PA2', 'localhost', 'FromIOP'],
        ['FR*PA3', '127.0.0.1', 'ToIOP'],
        ['FR*PA4', '127.0.0.1', 'FromIOP'],
      ] as const) {
        const { peer, proxy } = await peerAt(host);
        await createOperation(t, operation);
        if (how === 'ToIOP') {
          peer.expectedToken = `iop-token-A-${operation}`;
          const response = await open.http
            .post(`/admin/operations/${operation}/register`)
            .set(open.admin)
            .send({ versions_url: peer.versionsUrl, token: peer.expectedToken });
          expect(response.status).toBe(200);
        } else {
          // The peer registers with us as a hub does (/sim/register): it then knows us as its
          // party, for our update and unregister later.
          const a = await mintTokenA(open, operation);
          const answer = await fetch(`http://127.0.0.1:${peer.port}/sim/register`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({
              versions_url: `${open.baseUrl}/ocpi/FR/${operation.slice(3)}/versions`,
              token: a,
            }),
          });
          expect(await answer.json()).toMatchObject({ ok: true });
        }
        expect(proxy.count()).toBeGreaterThan(0);
        registered.push({
          operation,
          peer,
          proxy,
          refused:
            host === 'localhost'
              ? NAME_REFUSED
              : /host 127\.0\.0\.1 is a private address \(loopback\), which is refused/,
        });
      }
    });

    it.each([
      ['update-credentials', 'versions', 'GET', '/ocpi/emsp/versions'],
      ['unregister', 'credentials', 'DELETE', '/ocpi/emsp/2.1.1/credentials'],
    ])(
      '%s with the setting off: 502 at %s, no connection to the peer',
      async (action, step, method, path) => {
        for (const { operation, peer, proxy, refused } of registered) {
          peer.reset();
          const before = proxy.count();
          const response = await t.http
            .post(`/admin/operations/${operation}/${action}`)
            .set(t.admin)
            .send({})
            .expect(502);
          expect(response.body).toMatchObject({
            step,
            error: expect.stringMatching(refused),
          });
          expect(response.body.error).toMatch(
            new RegExp(
              `^${method} http://(localhost|127\\.0\\.0\\.1):\\d+${path.replace(/\./g, '\\.')} `,
            ),
          );
          expect(proxy.count()).toBe(before);
          expect(peer.received).toEqual([]);
        }
      },
    );

    it('the same peers work with the setting on: update and unregister', async () => {
      for (const { operation, peer } of registered) {
        peer.reset();
        for (const action of ['update-credentials', 'unregister']) {
          const response = await open.http
            .post(`/admin/operations/${operation}/${action}`)
            .set(open.admin)
            .send({});
          expect(response.status).toBe(200);
        }
        expect(peer.received.map((r) => r.method)).toEqual(['GET', 'GET', 'PUT', 'DELETE']);
      }
    });
  });

  describe('with ALLOW_PRIVATE_PEER_ADDRESSES on', () => {
    it.each([
      ...LOOPBACK_LITERALS.filter((h) => !/^(2130706433|0177|127\.1$)/.test(h)),
      'localhost',
    ])('connects to %s (the listener counts it)', async (host) => {
      const before = listener.count();
      await register(open, url(host)).expect(502);
      expect(listener.count()).toBeGreaterThan(before);
    });
  });

  describe('every failure below HTTP is told alike, after the whole timeout', () => {
    let silent: Server;
    let notHttp: Server;
    let httpPeer: FakePeer;

    beforeAll(async () => {
      // Accepts, never answers.
      silent = createServer(() => undefined);
      // Answers at once, but not HTTP.
      notHttp = createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n'));
      for (const server of [silent, notHttp]) {
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        t.onClose(() => {
          server.close();
        });
      }
      silent.on('connection', (socket: Socket) => t.onClose(() => void socket.destroy()));
      httpPeer = await t.startPeer();
    });

    const port = (server: Server) => (server.address() as AddressInfo).port;
    const CASES: [string, () => Promise<string>][] = [
      ['a closed port', async () => `http://127.0.0.1:${await freePort()}/v`],
      [
        'an open port that drops the connection',
        () => Promise.resolve(`http://127.0.0.1:${listener.port}/v`),
      ],
      ['a silent port', () => Promise.resolve(`http://127.0.0.1:${port(silent)}/v`)],
      [
        'a port that does not speak HTTP',
        () => Promise.resolve(`http://127.0.0.1:${port(notHttp)}/v`),
      ],
      [
        'https to a port without TLS',
        () => Promise.resolve(`https://127.0.0.1:${httpPeer.port}/v`),
      ],
    ];

    const ONE_MESSAGE = (target: string) =>
      `GET ${target} could not be reached or gave no complete answer within ${TIMEOUT_MS} ms (refused, reset, unreachable, TLS or timeout are not told apart here; this service's log names the cause)`;

    it.each(CASES)('ToIOP: %s', async (_what, target) => {
      const versionsUrl = await target();
      const started = Date.now();
      const response = await register(open, versionsUrl).expect(502);
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(response.body).toEqual({
        status: 502,
        step: 'versions',
        error: ONE_MESSAGE(versionsUrl),
      });
      const history = await open.http
        .get('/admin/operations/FR*PA0/handshakes?limit=1')
        .set(open.admin)
        .expect(200);
      const [step] = history.body.items[0].steps as { error: string; duration_ms: number }[];
      expect(step.error).toBe(ONE_MESSAGE(versionsUrl));
      expect(step.duration_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    });

    it.each(CASES)('FromIOP: %s', async (_what, target) => {
      const versionsUrl = await target();
      const started = Date.now();
      const a = await mintTokenA(open, 'FR*PA0');
      const response = await fromIop(open, versionsUrl, a).expect(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(response.body).toEqual({
        status_code: 3001,
        status_message: ONE_MESSAGE(versionsUrl),
        timestamp: expect.any(String),
      });
    });

    it("names the cause in the service's log only", () => {
      const file = (t.config.logDestination as { file?: string } | undefined)?.file;
      if (!file) return; // outside `npm test`, the apps do not log
      const log = readFileSync(file, 'utf8');
      expect(log).toMatch(/failed: ECONNREFUSED/);
    });
  });
});
