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

  it('still serves Swagger UI and lets its files be cached', async () => {
    const page = await t.http.get('/docs/').expect(200);
    expect(page.text).toContain('swagger-ui');
    const asset = await t.http.get('/docs/swagger-ui.css').expect(200);
    expect(asset.headers['cache-control']).not.toBe('no-store');
    await mintTokenA(t);
  });
});
