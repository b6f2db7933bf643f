import { request as httpRequest } from 'node:http';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { useHarness } from './support/harness.js';

/** A GET from another loopback address, so that it counts as another client. */
function getFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { localAddress, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('brute force: failed authentications are throttled per client address', () => {
  const t = useHarness({ app: { authFailureLimit: 5, authFailureWindowS: 60 } });
  let tokenA: string;
  let otherTokenA: string;

  beforeAll(async () => {
    await createOperation(t);
    tokenA = await mintTokenA(t);
    await createOperation(t, 'FR*AB2');
    otherTokenA = await mintTokenA(t, 'FR*AB2');
  });

  it('never counts valid calls', async () => {
    for (let i = 0; i < 20; i++)
      await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenA)).expect(200);
  });

  it('answers 429 with Retry-After to bad OCPI tokens over the limit, in the OCPI envelope', async () => {
    for (let i = 0; i < 5; i++) {
      await t.http
        .get('/ocpi/FR/AB1/versions')
        .set(tokenHeader(`guess-${i}`))
        .expect(401);
    }
    const response = await t.http
      .get('/ocpi/FR/AB1/versions')
      .set(tokenHeader('guess-5'))
      .expect(429);
    expect(response.body).toEqual({
      status_code: 2000,
      status_message: expect.stringMatching(/Too many failed/),
      timestamp: expect.any(String),
    });
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    // A valid token is never refused by the limit, from the very same address...
    await t.http.get('/ocpi/fr/ab1/versions').set(tokenHeader(tokenA)).expect(200);
    // ...while guesses there go on being refused.
    await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader('guess-6')).expect(429);
    // Other operations keep their own budget: a hub with a stale token for one reaches the rest.
    await t.http.get('/ocpi/FR/AB2/versions').set(tokenHeader('stale')).expect(401);
    await t.http.get('/ocpi/FR/AB2/versions').set(tokenHeader(otherTokenA)).expect(200);
    await t.http.get('/admin/operations').set(t.admin).expect(200);
  });

  it('throttles the enumeration of operations that do not exist: 404 then 429', async () => {
    for (let i = 0; i < 5; i++) {
      await t.http.get(`/ocpi/FR/Z${String(i).padStart(2, '0')}/versions`).expect(404);
    }
    await t.http.get('/ocpi/FR/Z99/versions').expect(429);
    await t.http.get('/ocpi/FR/AB2/versions').set(tokenHeader(otherTokenA)).expect(200);
  });

  it('does not slow callers from other addresses, nor lets them guess further', async () => {
    const url = `${t.baseUrl}/ocpi/FR/AB1/versions`;
    expect(await getFrom('127.0.0.2', url, tokenHeader(tokenA))).toBe(200);
    expect(await getFrom('127.0.0.3', `${t.baseUrl}/admin/operations`, t.admin)).toBe(200);
    for (let i = 0; i < 5; i++) {
      expect(
        await getFrom('127.0.0.4', `${t.baseUrl}/admin/operations`, {
          Authorization: `Bearer guess-${i}`,
        }),
      ).toBe(401);
    }
    expect(
      await getFrom('127.0.0.4', `${t.baseUrl}/admin/operations`, {
        Authorization: 'Bearer guess-5',
      }),
    ).toBe(429);
    // The admin token itself still opens, from that address too; the scheme in any case.
    expect(await getFrom('127.0.0.4', `${t.baseUrl}/admin/operations`, t.admin)).toBe(200);
    expect(
      await getFrom('127.0.0.4', `${t.baseUrl}/admin/operations`, {
        Authorization: t.admin.Authorization.replace('Bearer', 'bearer'),
      }),
    ).toBe(200);
    expect(await getFrom('127.0.0.2', url, tokenHeader(tokenA))).toBe(200);
  });
});

describe('brute force across replicas: one budget', () => {
  const t = useHarness({ app: { authFailureLimit: 4 }, replica: true });

  it('counts the failures of both replicas together', async () => {
    for (let i = 0; i < 4; i++) {
      await (i % 2 ? t.replica : t).http
        .get('/admin/operations')
        .set('Authorization', 'Bearer x')
        .expect(401);
    }
    await t.replica.http.get('/admin/operations').set('Authorization', 'Bearer x').expect(429);
    await t.http.get('/admin/operations').set('Authorization', 'Bearer x').expect(429);
    await t.replica.http.get('/admin/operations').set(t.admin).expect(200);
  });
});

describe('brute force behind a reverse proxy (TRUST_PROXY)', () => {
  const t = useHarness({ app: { authFailureLimit: 3, trustProxy: 'loopback' } });
  const from = (forwardedFor: string, auth: string) =>
    t.http.get('/admin/operations').set('X-Forwarded-For', forwardedFor).set('Authorization', auth);

  it('throttles the client named by X-Forwarded-For, not the proxy', async () => {
    for (let i = 0; i < 3; i++) await from('203.0.113.7', 'Bearer wrong').expect(401);
    await from('203.0.113.7', 'Bearer wrong').expect(429);
    await from('203.0.113.7', t.admin.Authorization).expect(200);
    await from('198.51.100.9', 'Bearer wrong').expect(401);
  });

  it('takes the right-most untrusted address: a forged left part neither frames nor frees anyone', async () => {
    // The attacker (192.0.2.66) writes the hub's address in front of its own.
    for (let i = 0; i < 3; i++) await from(`198.51.100.20, 192.0.2.66`, 'Bearer wrong').expect(401);
    await from(`198.51.100.21, 192.0.2.66`, 'Bearer wrong').expect(429);
    // A new forged value per request changes nothing: the attacker stays limited...
    await from(`198.51.100.${22}, 192.0.2.66`, 'Bearer wrong').expect(429);
    // ...and the address it named is not.
    await from('198.51.100.20', 'Bearer wrong').expect(401);
  });

  it('throttles the same client on the relay and the gateway, which are served ahead of Express', async () => {
    const relay = (forwardedFor: string) =>
      t.http
        .get('/relay/FR*AB1/locations')
        .set('X-Forwarded-For', forwardedFor)
        .set('Authorization', 'Bearer wrong');
    for (let i = 0; i < 3; i++) await relay('203.0.113.8').expect(401);
    const limited = await relay('203.0.113.8').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ status: 429 });
    await relay('198.51.100.30').expect(401);
    const gateway = (forwardedFor: string) =>
      t.http
        .get('/ocpi/FR/AB9/2.1.1/locations')
        .set('X-Forwarded-For', forwardedFor)
        .set('Authorization', 'Token wrong');
    for (let i = 0; i < 3; i++) await gateway('203.0.113.9').expect(404);
    const refused = await gateway('203.0.113.9').expect(429);
    expect(refused.body).toMatchObject({ status_code: 2000 });
    await gateway('198.51.100.31').expect(404);
  });
});
