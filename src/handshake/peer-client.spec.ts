import type { LookupAddress } from 'node:dns';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { ConfigService } from '@nestjs/config';
import { PeerError } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { HandshakeRecorder } from './handshake-recorder.js';
import { addressRefusal, PeerAddressGuard } from './peer-address.js';
import { PeerClient, USER_AGENT } from './peer-client.js';
import { PeerDiscovery } from './peer-discovery.js';

/**
 * The address check on every connection the client makes, not only the first: URLs found in a
 * peer's answers and redirects are checked where they are connected to. The peer here listens on
 * 127.0.0.1, which this test's check lets through as if it were public (the one difference from
 * the real check); a listener on 127.0.0.2 and ::1, at the same port, counts every connection
 * that reaches it. A fake DNS names them: `peer.test` (127.0.0.1), `listener.test` (127.0.0.2),
 * and `rebind.test`, which answers 127.0.0.1 once, then 127.0.0.2.
 */
describe('PeerClient: the address check at every connection', () => {
  let peer: Server;
  let port: number;
  const listeners: NetServer[] = [];
  let connections = 0;
  let client: PeerClient;
  let discovery: PeerDiscovery;
  /** What the versions answer lists as the 2.1.1 URL. */
  let detailsUrl = '';

  const answers: Record<string, () => string[]> = {
    'peer.test': () => ['127.0.0.1'],
    'listener.test': () => ['127.0.0.2'],
  };
  let rebinds: string[] = [];

  /** The headers of each request the peer received. */
  const received: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    peer = createHttpServer((req, res) => {
      received.push(req.headers);
      const json = (data: unknown) =>
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ data, status_code: 1000, timestamp: new Date().toISOString() }));
      if (req.url === '/redirect') {
        // A new connection for the next hop: its name is resolved again.
        res.writeHead(302, { Location: '/versions', Connection: 'close' }).end();
      } else if (req.url === '/versions') {
        json([{ version: '2.1.1', url: detailsUrl }]);
      } else {
        json({
          version: '2.1.1',
          endpoints: [{ identifier: 'credentials', url: `http://listener.test:${port}/c` }],
        });
      }
    });
    peer.listen(0, '127.0.0.1');
    await once(peer, 'listening');
    port = (peer.address() as AddressInfo).port;
    for (const host of ['127.0.0.2', '::1']) {
      const listener = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      listener.listen(port, host);
      await once(listener, 'listening');
      listeners.push(listener);
    }

    const settings: Partial<AppConfig> = {
      allowInsecurePeerUrls: true,
      peerHostAllowlist: [],
      peerTimeoutMs: 2_000,
      allowPrivatePeerAddresses: false,
    };
    const config = {
      get: (key: keyof AppConfig) => settings[key],
    } as unknown as ConfigService<AppConfig, true>;
    const resolve = (hostname: string): Promise<LookupAddress[]> => {
      const found =
        hostname === 'rebind.test' ? [rebinds.shift() ?? '127.0.0.2'] : answers[hostname]?.();
      return found
        ? Promise.resolve(
            found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
          )
        : Promise.reject(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    };
    const guard = new PeerAddressGuard(
      { allowPrivate: false, allowlist: [] },
      resolve,
      (address) => (address === '127.0.0.1' ? undefined : addressRefusal(address)),
    );
    client = new PeerClient(config, guard);
    discovery = new PeerDiscovery(client);
  });

  afterAll(async () => {
    await client.onApplicationShutdown();
    for (const server of [peer, ...listeners]) server.close();
  });

  beforeEach(() => {
    connections = 0;
    rebinds = [];
  });

  const discover = (versionsUrl: string) =>
    discovery.discover(versionsUrl, 'our-token', new HandshakeRecorder('REGISTER', 'US'));

  it('connects to an allowed peer, and the listener counts what reaches it', async () => {
    detailsUrl = `http://peer.test:${port}/details`;
    const found = await discover(`http://peer.test:${port}/versions`);
    expect(found.credentialsUrl).toBe(`http://listener.test:${port}/c`);
    expect(received.at(-1)).toMatchObject({
      authorization: 'Token our-token',
      accept: 'application/json',
      'user-agent': USER_AGENT,
    });
    expect(connections).toBe(0);
    // The listener itself is reachable: a connection made without the client is counted.
    for (const host of ['127.0.0.2', '::1']) await once(connect(port, host), 'close');
    expect(connections).toBe(2);
  });

  it.each([
    [
      'an IPv4 literal',
      () => `http://127.0.0.2:${port}/details`,
      /host 127\.0\.0\.2 is a private address \(loopback\)/,
    ],
    [
      'an IPv6 literal',
      () => `http://[::1]:${port}/details`,
      /host \[::1\] is a private address \(loopback\)/,
    ],
    [
      'a hex IPv4 literal',
      () => `http://0x7f000002:${port}/details`,
      /host 127\.0\.0\.2 is a private address/,
    ],
    [
      'a name that resolves to it',
      () => `http://listener.test:${port}/details`,
      /host listener\.test resolves to a private address, which is refused \(ALLOW_PRIVATE_PEER_ADDRESSES is off/,
    ],
  ])(
    'refuses a versions answer that points at a private address (%s): no connection',
    async (_what, url, message) => {
      detailsUrl = url();
      const failure = await discover(`http://peer.test:${port}/versions`).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(PeerError);
      expect(failure).toMatchObject({ step: 'version_details', ocpiStatusCode: 3001 });
      expect((failure as PeerError).message).toMatch(message);
      expect(connections).toBe(0);
    },
  );

  it('refuses the credentials URL of the version details when it is called: no connection', async () => {
    detailsUrl = `http://peer.test:${port}/details`;
    const { credentialsUrl } = await discover(`http://peer.test:${port}/versions`);
    const failure = await client
      .call(
        { step: 'credentials', method: 'POST', url: credentialsUrl, token: 'our-token', body: {} },
        new HandshakeRecorder('REGISTER', 'US'),
      )
      .catch((e: unknown) => e);
    expect((failure as PeerError).message).toMatch(
      /host listener\.test resolves to a private address/,
    );
    expect(connections).toBe(0);
  });

  it('refuses a redirect whose host now resolves to a private address (DNS rebinding): no connection', async () => {
    detailsUrl = `http://peer.test:${port}/details`;
    rebinds = ['127.0.0.1', '127.0.0.2'];
    const failure = await discover(`http://rebind.test:${port}/redirect`).catch((e: unknown) => e);
    expect((failure as PeerError).message).toMatch(
      /^GET http:\/\/rebind\.test:\d+\/redirect host rebind\.test resolves to a private address/,
    );
    expect(rebinds).toEqual([]);
    expect(connections).toBe(0);
  });
});
