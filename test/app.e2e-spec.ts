import type { OpenAPIObject } from '@nestjs/swagger';
import { useHarness } from './support/harness.js';

describe('the service around the API', () => {
  const t = useHarness();

  describe('health', () => {
    it('answers liveness without a token', async () => {
      const response = await t.http.get('/health').expect(200);
      expect(response.body.status).toBe('ok');
    });

    it('answers readiness with the database up', async () => {
      const response = await t.http.get('/health/ready').expect(200);
      expect(response.body.details.database.status).toBe('up');
    });
  });

  describe('request ids', () => {
    it('gives every response a request id', async () => {
      const response = await t.http.get('/health').expect(200);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("keeps the caller's request id when it is sane", async () => {
      const response = await t.http.get('/health').set('X-Request-Id', 'lb-123.abc').expect(200);
      expect(response.headers['x-request-id']).toBe('lb-123.abc');
    });

    it('replaces a request id that could forge log lines', async () => {
      const response = await t.http.get('/health').set('X-Request-Id', 'a b\tc').expect(200);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('Swagger', () => {
    let doc: OpenAPIObject;
    beforeAll(async () => {
      doc = (await t.http.get('/docs-json').expect(200)).body as OpenAPIObject;
    });

    it('serves the UI', async () => {
      const response = await t.http.get('/docs').expect(200);
      expect(response.text).toContain('swagger-ui');
    });

    it('documents every admin route with the bearer scheme and its errors', () => {
      const adminRoutes = Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/admin'))
        .flatMap(([path, item]) =>
          (['get', 'post', 'patch', 'delete'] as const)
            .filter((method) => item[method])
            .map((method) => ({ route: `${method.toUpperCase()} ${path}`, op: item[method]! })),
        );
      expect(adminRoutes.map((r) => r.route).sort()).toEqual([
        'DELETE /admin/api-keys/{id}',
        'DELETE /admin/operations/{operation}',
        'DELETE /admin/operations/{operation}/deliveries/{id}',
        'DELETE /admin/organisations/{id}',
        'DELETE /admin/webhooks/{id}',
        'GET /admin/api-keys',
        'GET /admin/operations',
        'GET /admin/operations/{operation}',
        'GET /admin/operations/{operation}/connection',
        'GET /admin/operations/{operation}/connection/peer-token',
        'GET /admin/operations/{operation}/deliveries',
        'GET /admin/operations/{operation}/handshakes',
        'GET /admin/organisations',
        'GET /admin/organisations/{id}',
        'GET /admin/webhooks',
        'PATCH /admin/operations/{operation}',
        'PATCH /admin/organisations/{id}',
        'POST /admin/api-keys',
        'POST /admin/operations',
        'POST /admin/operations/{operation}/connection/probe',
        'POST /admin/operations/{operation}/deliveries/{id}/retry',
        'POST /admin/operations/{operation}/register',
        'POST /admin/operations/{operation}/registration-tokens',
        'POST /admin/operations/{operation}/unregister',
        'POST /admin/operations/{operation}/update-credentials',
        'POST /admin/organisations',
        'POST /admin/webhooks',
      ]);
      for (const { op } of adminRoutes) {
        expect(op.security).toEqual([{ admin: [] }]);
        expect(op.responses).toHaveProperty('401');
        // The route's scope (DESIGN 12), and the 403 of a key without it.
        expect(op.responses).toHaveProperty('403');
      }
      expect(doc.components?.securitySchemes?.admin).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
    });

    it('documents the OCPI routes', () => {
      expect(
        Object.keys(doc.paths)
          .filter((p) => p.startsWith('/ocpi'))
          .sort(),
      ).toEqual([
        '/ocpi/{countryCode}/{partyId}/2.1.1',
        '/ocpi/{countryCode}/{partyId}/2.1.1/credentials',
        '/ocpi/{countryCode}/{partyId}/2.1.1/{path}',
        '/ocpi/{countryCode}/{partyId}/versions',
      ]);
      const ok = (path: string, method: 'get' | 'post' | 'put' | 'delete' = 'get') =>
        (
          doc.paths[`/ocpi/{countryCode}/{partyId}${path}`][method]?.responses[
            '200'
          ] as unknown as {
            content: { 'application/json': { schema: { properties: Record<string, unknown> } } };
          }
        ).content['application/json'].schema.properties;
      expect(ok('/versions')).toMatchObject({
        data: { type: 'array', items: { $ref: '#/components/schemas/VersionDto' } },
        status_code: { example: 1000 },
        timestamp: { example: '2020-01-08T10:24:52Z' },
      });
      expect(ok('/2.1.1').data).toEqual({ $ref: '#/components/schemas/VersionDetailsDto' });
      for (const method of ['get', 'post', 'put'] as const) {
        expect(ok('/2.1.1/credentials', method).data).toEqual({
          $ref: '#/components/schemas/CredentialsDto',
        });
      }
      expect(ok('/2.1.1/credentials', 'delete').data).toMatchObject({ type: 'object' });
    });

    it('takes the schemas from the DTOs, with their validation rules', () => {
      const schemas = doc.components?.schemas ?? {};
      expect(schemas.CreateOperationDto).toMatchObject({
        required: expect.arrayContaining(['operator_id', 'business_details']),
        properties: { operator_id: { example: 'FR*AB1' } },
      });
      expect(schemas.BusinessDetailsDto).toMatchObject({
        required: ['name'],
        properties: { name: { maxLength: 100 }, website: { format: 'uri', maxLength: 255 } },
      });
      expect(schemas.ImageDto).toMatchObject({
        properties: { category: { enum: expect.arrayContaining(['NETWORK', 'OWNER']) } },
      });
      expect(schemas.OperationDto).toMatchObject({
        properties: { versions_url: { type: 'string' }, connection: expect.anything() },
      });
      expect(schemas.ErrorBodyDto).toMatchObject({ properties: { fields: { type: 'array' } } });
    });
  });
});
