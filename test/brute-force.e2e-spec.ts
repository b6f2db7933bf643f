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

  it('answers 429 with Retry-After after too many bad OCPI tokens, in the OCPI envelope', async () => {
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
    // The address is refused on that operation before any token is looked at...
    await t.http.get('/ocpi/fr/ab1/versions').set(tokenHeader(tokenA)).expect(429);
    // ...and still served elsewhere: a hub with a stale token for one operation reaches the rest.
    await t.http.get('/ocpi/FR/AB2/versions').set(tokenHeader(otherTokenA)).expect(200);
    await t.http.get('/admin/operations').set(t.admin).expect(200);
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
    expect(await getFrom('127.0.0.4', `${t.baseUrl}/admin/operations`, t.admin)).toBe(429);
    expect(await getFrom('127.0.0.2', url, tokenHeader(tokenA))).toBe(200);
  });
});

describe('brute force behind a reverse proxy (TRUST_PROXY)', () => {
  const t = useHarness({ app: { authFailureLimit: 3, trustProxy: 'loopback' } });

  it('throttles the client named by X-Forwarded-For, not the proxy', async () => {
    const from = (client: string, auth: string) =>
      t.http.get('/admin/operations').set('X-Forwarded-For', client).set('Authorization', auth);
    for (let i = 0; i < 3; i++) await from('203.0.113.7', 'Bearer wrong').expect(401);
    await from('203.0.113.7', t.admin.Authorization).expect(429);
    await from('198.51.100.9', t.admin.Authorization).expect(200);
  });
});
