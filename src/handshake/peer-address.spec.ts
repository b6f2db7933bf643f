import type { LookupAddress } from 'node:dns';
import { addressRefusal, PeerAddressGuard, PeerAddressRefusedError } from './peer-address.js';

describe('addressRefusal', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.0.0.2', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['169.254.169.254', 'link-local'],
    ['192.0.0.1', 'reserved'],
    ['192.0.2.2', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['192.88.99.1', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:A9FE:A9FE', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::', 'private'],
    ['fd00::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'reserved'],
    ['3fff::1', 'documentation'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['localhost', 'not an IP address'],
    ['', 'not an IP address'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(addressRefusal(address)).toBe(kind);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '169.253.255.255',
    '192.0.1.1',
    '192.0.3.1',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '11.0.0.1',
    '126.255.255.255',
    '128.0.0.1',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '2a00:1450:4007:80e::200e',
    '2606:4700:4700::1111',
    '2001:200::1',
  ])('allows the public address %s', (address) => {
    expect(addressRefusal(address)).toBeUndefined();
  });
});

describe('PeerAddressGuard', () => {
  const OFF = { allowPrivate: false, allowlist: [] };

  /** A fake DNS: each name has its answers, in the order they are given. */
  function resolver(answers: Record<string, string[][]>) {
    const asked: string[] = [];
    const resolve = (hostname: string): Promise<LookupAddress[]> => {
      asked.push(hostname);
      const next = answers[hostname]?.shift();
      if (!next)
        return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
      return Promise.resolve(
        next.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    };
    return { resolve, asked };
  }

  function lookup(guard: PeerAddressGuard, hostname: string, all: boolean) {
    return new Promise<{ error: Error | null; address?: unknown; family?: number }>((resolve) =>
      guard.lookup(hostname, { all }, (error: Error | null, address?: unknown, family?: number) =>
        resolve({ error, address, family }),
      ),
    );
  }

  it.each([
    [
      '127.0.0.1',
      /^host 127\.0\.0\.1 is a private address \(loopback\), which is refused \(ALLOW_PRIVATE_PEER_ADDRESSES is off/,
    ],
    ['[::1]', /^host \[::1\] is a private address \(loopback\)/],
    ['[::ffff:7f00:1]', /^host \[::ffff:7f00:1\] is a private address \(loopback\)/],
    ['169.254.169.254', /link-local/],
    ['[fd00::1]', /unique-local/],
  ])('refuses the IP literal %s before any connection', (hostname, message) => {
    expect(new PeerAddressGuard(OFF).literalProblem(hostname)).toMatch(message);
  });

  it('leaves names to the connection, and allows public literals', () => {
    const guard = new PeerAddressGuard(OFF);
    expect(guard.literalProblem('localhost')).toBeUndefined();
    expect(guard.literalProblem('8.8.8.8')).toBeUndefined();
    expect(guard.literalProblem('[2606:4700:4700::1111]')).toBeUndefined();
  });

  it('allows every literal with ALLOW_PRIVATE_PEER_ADDRESSES, and allow-listed hosts', () => {
    expect(
      new PeerAddressGuard({ allowPrivate: true, allowlist: [] }).literalProblem('127.0.0.1'),
    ).toBeUndefined();
    const listed = new PeerAddressGuard({ allowPrivate: false, allowlist: ['10.0.0.5'] });
    expect(listed.literalProblem('10.0.0.5')).toBeUndefined();
    expect(listed.literalProblem('10.0.0.6')).toMatch(/private/);
  });

  it('fails the connection when a name resolves to a private address, in either lookup form', async () => {
    const { resolve } = resolver({ 'evil.test': [['127.0.0.1'], ['127.0.0.1']] });
    const guard = new PeerAddressGuard(OFF, resolve);
    for (const all of [true, false]) {
      const { error } = await lookup(guard, 'evil.test', all);
      expect(error).toBeInstanceOf(PeerAddressRefusedError);
      expect(error?.message).toBe(
        'host evil.test resolves to a private address, which is refused (ALLOW_PRIVATE_PEER_ADDRESSES is off; a peer on a private network must be named in PEER_HOST_ALLOWLIST)',
      );
    }
  });

  it('fails when any one of the addresses is private', async () => {
    const { resolve } = resolver({ 'mixed.test': [['8.8.8.8', '::1']] });
    const { error } = await lookup(new PeerAddressGuard(OFF, resolve), 'mixed.test', true);
    expect(error).toBeInstanceOf(PeerAddressRefusedError);
  });

  it('checks the answer of each connection: a name that rebinds to loopback is refused', async () => {
    const { resolve, asked } = resolver({
      'rebind.test': [['93.184.215.14'], ['127.0.0.1']],
    });
    const guard = new PeerAddressGuard(OFF, resolve);
    expect(await lookup(guard, 'rebind.test', false)).toEqual({
      error: null,
      address: '93.184.215.14',
      family: 4,
    });
    expect((await lookup(guard, 'rebind.test', false)).error).toBeInstanceOf(
      PeerAddressRefusedError,
    );
    expect(asked).toEqual(['rebind.test', 'rebind.test']);
  });

  it('gives every address when asked for all, the first one otherwise', async () => {
    const { resolve } = resolver({ 'ok.test': [['8.8.8.8', '2001:4860:4860::8888']] });
    expect(await lookup(new PeerAddressGuard(OFF, resolve), 'ok.test', true)).toEqual({
      error: null,
      address: [
        { address: '8.8.8.8', family: 4 },
        { address: '2001:4860:4860::8888', family: 6 },
      ],
      family: undefined,
    });
  });

  it('passes a resolution failure on as it is', async () => {
    const { resolve } = resolver({});
    const { error } = await lookup(new PeerAddressGuard(OFF, resolve), 'nowhere.test', true);
    expect(error).toMatchObject({ code: 'ENOTFOUND' });
  });

  it.each([
    ['ALLOW_PRIVATE_PEER_ADDRESSES', { allowPrivate: true, allowlist: [] }],
    ['an allow-listed host (any case)', { allowPrivate: false, allowlist: ['hub.test'] }],
  ])('lets private addresses through for %s', async (_what, policy) => {
    const { resolve } = resolver({ 'HUB.test': [['10.1.2.3']] });
    expect(await lookup(new PeerAddressGuard(policy, resolve), 'HUB.test', false)).toEqual({
      error: null,
      address: '10.1.2.3',
      family: 4,
    });
  });
});
