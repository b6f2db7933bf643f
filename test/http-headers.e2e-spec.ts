import { useHarness } from './support/harness.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';

describe('Headers of every answer', () => {
  const t = useHarness();

  beforeAll(() => createOperation(t));

  it('keeps answers that carry a token out of every cache: no-store, no ETag', async () => {
    const minted = await t.http
      .post('/admin/operations/FR*AB1/registration-tokens')
      .set(t.admin)
      .send({})
      .expect(201);
    const versions = await t.http
      .get('/ocpi/FR/AB1/versions')
      .set(tokenHeader(minted.body.token as string))
      .expect(200);
    const list = await t.http.get('/admin/operations').set(t.admin).expect(200);
    for (const response of [minted, versions, list]) {
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers).not.toHaveProperty('etag');
    }
  });

  it('sends the usual security headers, and no X-Powered-By', async () => {
    const response = await t.http.get('/admin/operations').set(t.admin).expect(200);
    expect(response.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringMatching(/max-age=/),
      'content-security-policy': expect.stringMatching(/default-src 'self'/),
    });
    expect(response.headers).not.toHaveProperty('x-powered-by');
    // Errors too.
    const refused = await t.http.get('/ocpi/FR/AB1/versions').expect(401);
    expect(refused.headers).toMatchObject({ 'x-content-type-options': 'nosniff' });
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  it('answers alike whether the front (GET) or Nest (HEAD) serves an OCPI route', async () => {
    const minted = await t.http
      .post('/admin/operations/FR*AB1/registration-tokens')
      .set(t.admin)
      .send({})
      .expect(201);
    const token = tokenHeader(minted.body.token as string);
    // Paths match as Express matches them: any case, with or without a trailing slash.
    const get = await t.http.get('/OCPI/fr/ab1/Versions/').set(token).expect(200);
    const head = await t.http.head('/ocpi/FR/AB1/versions').set(token).expect(200);
    expect(get.body).toMatchObject({ status_code: 1000, data: [{ version: '2.1.1' }] });
    // All but what differs between any two answers, or between GET and HEAD.
    const shared = (headers: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(headers).filter(
          ([name]) => !['date', 'x-request-id', 'content-length'].includes(name),
        ),
      );
    expect(shared(get.headers)).toEqual(shared(head.headers));
    expect(get.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('still serves Swagger UI and lets its files be cached', async () => {
    const page = await t.http.get('/docs/').expect(200);
    expect(page.text).toContain('swagger-ui');
    const asset = await t.http.get('/docs/swagger-ui.css').expect(200);
    expect(asset.headers['cache-control']).not.toBe('no-store');
    await mintTokenA(t);
  });
});
