import { createOperation, mintTokenA, OCPI_TIMESTAMP, tokenHeader } from './support/ocpi.js';
import { useHarness } from './support/harness.js';

const CREDENTIALS = '/ocpi/FR/AB1/2.1.1/credentials';

describe('OCPI FromIOP flows: register, read, update, unregister, re-register', () => {
  const t = useHarness({ peer: true });
  const { peer } = t;

  beforeAll(async () => {
    await createOperation(t);
  });

  const connection = async () =>
    (await t.http.get('/admin/operations/FR*AB1/connection').set(t.admin).expect(200))
      .body as Record<string, unknown>;

  let tokenA: string;
  let tokenC: string;

  it('serves versions and version details to a token A, shaped like the seeds', async () => {
    tokenA = await mintTokenA(t);
    const versions = await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenA)).expect(200);
    expect(versions.body).toEqual({
      data: [{ version: '2.1.1', url: 'https://ocpi.cpo.example/ocpi/FR/AB1/2.1.1' }],
      status_code: 1000,
      status_message: 'Success',
      timestamp: expect.stringMatching(OCPI_TIMESTAMP),
    });
    const details = await t.http.get('/ocpi/fr/ab1/2.1.1/').set(tokenHeader(tokenA)).expect(200);
    expect(details.body.data).toEqual({
      version: '2.1.1',
      endpoints: [
        {
          identifier: 'credentials',
          url: 'https://ocpi.cpo.example/ocpi/FR/AB1/2.1.1/credentials',
        },
        { identifier: 'locations', url: 'https://cpo.example/ocpi/2.1.1/locations' },
      ],
    });
  });

  it('registers the peer on POST: calls it back with its token, answers our credentials with a new token', async () => {
    const response = await t.http
      .post(CREDENTIALS)
      .set(tokenHeader(tokenA))
      .send(peer.credentials())
      .expect(200);
    expect(response.body).toEqual({
      data: {
        token: expect.stringMatching(/^[\w-]{43}$/),
        url: 'https://ocpi.cpo.example/ocpi/FR/AB1/versions',
        business_details: { name: 'Operation AB1' },
        party_id: 'AB1',
        country_code: 'FR',
      },
      status_code: 1000,
      status_message: 'Success',
      timestamp: expect.stringMatching(OCPI_TIMESTAMP),
    });
    tokenC = response.body.data.token;
    expect(peer.received.map((r) => [r.method, r.path, r.authorization])).toEqual([
      ['GET', '/ocpi/emsp/versions', 'Token peer-token-B-0001'],
      ['GET', '/ocpi/emsp/2.1.1', 'Token peer-token-B-0001'],
    ]);
    expect(await connection()).toMatchObject({
      status: 'REGISTERED',
      initiated_by: 'PEER',
      version: '2.1.1',
      peer: {
        versions_url: peer.versionsUrl,
        country_code: 'FR',
        party_id: 'PID',
        business_details: peer.credentials().business_details,
      },
      peer_endpoints: expect.arrayContaining([
        { identifier: 'credentials', url: `${peer.baseUrl}/ocpi/emsp/2.1.1/credentials` },
        { identifier: 'cdrs', url: `${peer.baseUrl}/ocpi/emsp/2.1.1/cdrs` },
      ]),
      registered_at: expect.any(String),
      last_error: null,
    });
    await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenA)).expect(401);
  });

  it('answers GET credentials with the token the peer presented', async () => {
    const response = await t.http.get(CREDENTIALS).set(tokenHeader(tokenC)).expect(200);
    expect(response.body.data).toEqual({
      token: tokenC,
      url: 'https://ocpi.cpo.example/ocpi/FR/AB1/versions',
      business_details: { name: 'Operation AB1' },
      party_id: 'AB1',
      country_code: 'FR',
    });
  });

  it('answers 405 to a second POST while registered', async () => {
    const response = await t.http
      .post(CREDENTIALS)
      .set(tokenHeader(tokenC))
      .send(peer.credentials())
      .expect(405);
    expect(response.body).toMatchObject({ status_code: 2000 });
  });

  it('updates on PUT: fetches versions again with the new token, replaces the endpoints, rotates our token', async () => {
    peer.reset();
    peer.expectedToken = 'peer-token-B-0002';
    peer.modules = ['locations', 'tariffs'];
    const response = await t.http
      .put(CREDENTIALS)
      .set(tokenHeader(tokenC))
      .send(peer.credentials())
      .expect(200);
    const tokenC2 = response.body.data.token as string;
    expect(tokenC2).not.toBe(tokenC);
    expect(peer.received.map((r) => r.authorization)).toEqual([
      'Token peer-token-B-0002',
      'Token peer-token-B-0002',
    ]);
    expect((await connection()).peer_endpoints).toEqual([
      { identifier: 'credentials', url: `${peer.baseUrl}/ocpi/emsp/2.1.1/credentials` },
      { identifier: 'locations', url: `${peer.baseUrl}/ocpi/emsp/2.1.1/locations` },
      { identifier: 'tariffs', url: `${peer.baseUrl}/ocpi/emsp/2.1.1/tariffs` },
    ]);
    await t.http.get(CREDENTIALS).set(tokenHeader(tokenC)).expect(401);
    await t.http.get(CREDENTIALS).set(tokenHeader(tokenC2)).expect(200);
    tokenC = tokenC2;
  });

  it('unregisters on DELETE, answering {} like GIREVE', async () => {
    const response = await t.http.delete(CREDENTIALS).set(tokenHeader(tokenC)).expect(200);
    expect(response.body).toEqual({
      data: {},
      status_code: 1000,
      status_message: 'Success',
      timestamp: expect.stringMatching(OCPI_TIMESTAMP),
    });
    expect(await connection()).toMatchObject({
      status: 'UNREGISTERED',
      initiated_by: 'PEER',
      peer: null,
      peer_endpoints: [],
      unregistered_at: expect.any(String),
      last_peer: { versions_url: peer.versionsUrl, party_id: 'PID', unregistered_by: 'PEER' },
    });
  });

  it('explains, to a ToIOP register with no body after the peer ended it, what to send', async () => {
    const response = await t.http
      .post('/admin/operations/FR*AB1/register')
      .set(t.admin)
      .send({})
      .expect(400);
    expect(response.body.fields).toEqual(
      ['versions_url', 'token'].map((field) => ({
        field,
        message:
          'is required: the peer ended the connection itself (its DELETE), and its token ended with it; ask the peer for its versions URL and a new token A',
      })),
    );
  });

  it('keeps the DELETE token for re-registration only', async () => {
    await t.http.get(CREDENTIALS).set(tokenHeader(tokenC)).expect(401);
    await t.http.put(CREDENTIALS).set(tokenHeader(tokenC)).send(peer.credentials()).expect(405);
    await t.http.delete(CREDENTIALS).set(tokenHeader(tokenC)).expect(405);
    await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenC)).expect(200);
    await t.http.get('/ocpi/FR/AB1/2.1.1').set(tokenHeader(tokenC)).expect(200);
  });

  it("accepts GIREVE's re-registration: a POST with the token just used for DELETE", async () => {
    peer.reset();
    peer.expectedToken = 'peer-token-B-0003';
    const response = await t.http
      .post(CREDENTIALS)
      .set(tokenHeader(tokenC))
      .send(peer.credentials())
      .expect(200);
    expect(response.body.status_code).toBe(1000);
    expect(await connection()).toMatchObject({ status: 'REGISTERED' });
    // The new registration ends the grace of the old token.
    await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenC)).expect(401);
    tokenC = response.body.data.token;
  });

  it('re-registers with a fresh token A after an unregister', async () => {
    await t.http.delete(CREDENTIALS).set(tokenHeader(tokenC)).expect(200);
    const freshA = await mintTokenA(t);
    peer.expectedToken = 'peer-token-B-0004';
    const response = await t.http
      .post(CREDENTIALS)
      .set(tokenHeader(freshA))
      .send(peer.credentials())
      .expect(200);
    expect(response.body.status_code).toBe(1000);
    await t.http.get(CREDENTIALS).set(tokenHeader(response.body.data.token)).expect(200);
    // The other token that could have re-registered (the DELETE one) is gone too.
    await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenC)).expect(401);
  });

  it('records every handshake, newest first, without tokens', async () => {
    const response = await t.http
      .get('/admin/operations/FRAB1/handshakes')
      .set(t.admin)
      .expect(200);
    expect(response.body.total).toBe(6);
    const items = response.body.items as { action: string; outcome: string }[];
    expect(items.map((h) => `${h.action} ${h.outcome}`)).toEqual([
      'REGISTER SUCCEEDED',
      'UNREGISTER SUCCEEDED',
      'REGISTER SUCCEEDED',
      'UNREGISTER SUCCEEDED',
      'UPDATE SUCCEEDED',
      'REGISTER SUCCEEDED',
    ]);
    const first = response.body.items[5];
    expect(first).toMatchObject({ initiated_by: 'PEER', error: null });
    expect(first.steps).toEqual([
      {
        request: `GET ${peer.baseUrl}/ocpi/emsp/versions`,
        http_status: 200,
        ocpi_status_code: 1000,
        duration_ms: expect.any(Number),
      },
      {
        request: `GET ${peer.baseUrl}/ocpi/emsp/2.1.1`,
        http_status: 200,
        ocpi_status_code: 1000,
        duration_ms: expect.any(Number),
      },
    ]);
    expect(JSON.stringify(response.body)).not.toMatch(/peer-token-B/);
  });
});
