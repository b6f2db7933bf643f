import { useHarness } from './support/harness.js';

const businessDetails = {
  name: 'Operation AB1',
  website: 'https://cpo.example',
  logo: {
    url: 'https://cpo.example/logo.png',
    thumbnail: 'https://cpo.example/logo-thumb.png',
    category: 'NETWORK',
    type: 'png',
    width: 92,
    height: 44,
  },
};

describe('admin API: operations', () => {
  const t = useHarness();
  const { db } = t;
  beforeEach(() => db.query('DELETE FROM operations'));

  const create = (body: object) => t.http.post('/admin/operations').set(t.admin).send(body);
  const operatorIds = (body: { items: { operator_id: string }[] }) =>
    body.items.map((o) => o.operator_id);
  const tableCount = async () =>
    (await db.query<{ n: string }>('SELECT count(*) AS n FROM operations'))[0].n;

  describe('POST /admin/operations', () => {
    it('creates an operation with its normalized operator id, versions URL and unregistered connection', async () => {
      const response = await create({
        operator_id: 'fr*ab1',
        business_details: businessDetails,
        endpoints: [{ identifier: 'locations', url: 'https://cpo.example/ocpi/2.1.1/locations' }],
      }).expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        operator_id: 'FR*AB1',
        country_code: 'FR',
        party_id: 'AB1',
        business_details: businessDetails,
        endpoints: [{ identifier: 'locations', url: 'https://cpo.example/ocpi/2.1.1/locations' }],
        organisation_id: null,
        versions_url: 'https://ocpi.cpo.example/ocpi/FR/AB1/versions',
        connection: {
          status: 'UNREGISTERED',
          initiated_by: null,
          version: null,
          peer: null,
          peer_endpoints: [],
          registered_at: null,
          unregistered_at: null,
          last_peer: null,
          updated_at: expect.any(String),
          last_error: null,
          health: {
            status: 'UNKNOWN',
            checked_at: null,
            last_up_at: null,
            consecutive_failures: 0,
            error: null,
          },
        },
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      const rows = await db.query('SELECT country_code, party_id FROM operations');
      expect(rows).toEqual([{ country_code: 'FR', party_id: 'AB1' }]);
      expect(await db.query('SELECT status FROM connections')).toEqual([
        { status: 'UNREGISTERED' },
      ]);
    });

    it('defaults the advertised endpoints to none', async () => {
      const response = await create({
        operator_id: 'DE*X12',
        business_details: { name: 'X' },
      }).expect(201);
      expect(response.body.endpoints).toEqual([]);
    });

    it.each(['FRAB1', 'frab1', 'FR*AB1', 'fR*aB1'])(
      'answers 409 for %s once FR*AB1 exists, and stores nothing',
      async (spelling) => {
        await create({ operator_id: 'FR*AB1', business_details: businessDetails }).expect(201);
        const response = await create({
          operator_id: spelling,
          business_details: businessDetails,
        }).expect(409);
        expect(response.body).toEqual({ status: 409, error: 'Operation FR*AB1 already exists' });
        expect(await tableCount()).toBe('1');
      },
    );

    it.each([
      [{ business_details: businessDetails }, 'operator_id', /eMI3 operator id.*FR\*AB1/],
      [
        { operator_id: 'FR*AB', business_details: businessDetails },
        'operator_id',
        /eMI3 operator id/,
      ],
      [{ operator_id: 'XX*AB1', business_details: businessDetails }, 'operator_id', /ISO 3166/],
      [{ operator_id: 42, business_details: businessDetails }, 'operator_id', /eMI3/],
      [{ operator_id: 'FR*AB1' }, 'business_details', /nested|object/],
      [
        { operator_id: 'FR*AB1', business_details: {} },
        'business_details.name',
        /non-empty string/,
      ],
      [
        { operator_id: 'FR*AB1', business_details: { name: '' } },
        'business_details.name',
        /non-empty/,
      ],
      [
        { operator_id: 'FR*AB1', business_details: { name: 'n'.repeat(101) } },
        'business_details.name',
        /100/,
      ],
      [
        { operator_id: 'FR*AB1', business_details: { name: 'n', website: 'cpo.example' } },
        'business_details.website',
        /URL/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: { name: 'n', website: `https://x.example/${'a'.repeat(250)}` },
        },
        'business_details.website',
        /255/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: { name: 'n', logo: { ...businessDetails.logo, url: 'ftp://x' } },
        },
        'business_details.logo.url',
        /URL/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: { name: 'n', logo: { ...businessDetails.logo, category: 'LOGO' } },
        },
        'business_details.logo.category',
        /NETWORK/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: { name: 'n', logo: { ...businessDetails.logo, type: 'jpeg2' } },
        },
        'business_details.logo.type',
        /4/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: { name: 'n', logo: { ...businessDetails.logo, width: 1.5 } },
        },
        'business_details.logo.width',
        /whole number/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: { name: 'n', logo: { ...businessDetails.logo, height: 100000 } },
        },
        'business_details.logo.height',
        /99999/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: { name: 'n', logo: { category: 'NETWORK', type: 'png' } },
        },
        'business_details.logo.url',
        /URL/,
      ],
      [
        { operator_id: 'FR*AB1', business_details: businessDetails, endpoints: 'locations' },
        'endpoints',
        /array/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: businessDetails,
          endpoints: [{ identifier: 'locations', url: '/relative' }],
        },
        'endpoints[0].url',
        /URL/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: businessDetails,
          endpoints: [{ identifier: 'credentials', url: 'https://x.example' }],
        },
        'endpoints[0].identifier',
        /served by this service/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: businessDetails,
          endpoints: [{ identifier: 'chargingprofiles', url: 'https://x.example' }],
        },
        'endpoints[0].identifier',
        /frab1-chargingprofiles/,
      ],
      [
        {
          operator_id: 'FR*AB1',
          business_details: businessDetails,
          endpoints: [
            { identifier: 'cdrs', url: 'https://x.example/a' },
            { identifier: 'cdrs', url: 'https://x.example/b' },
          ],
        },
        'endpoints[1].identifier',
        /more than once/,
      ],
      [
        { operator_id: 'FR*AB1', business_details: businessDetails, id: 'mine' },
        'id',
        /should not exist/,
      ],
    ])('answers 400 naming the bad field for %j', async (body, field, message) => {
      const response = await create(body).expect(400);
      expect(response.body).toEqual({
        status: 400,
        error: 'The request is invalid',
        fields: expect.arrayContaining([{ field, message: expect.stringMatching(message) }]),
      });
      expect(await tableCount()).toBe('0');
    });

    it('answers 400 on a body that is not JSON', async () => {
      const response = await t.http
        .post('/admin/operations')
        .set(t.admin)
        .set('Content-Type', 'application/json')
        .send('{"operator_id": ')
        .expect(400);
      expect(response.body).toEqual({ status: 400, error: 'The request body is not valid JSON' });
    });

    it('answers 415 naming Content-Type on a form-encoded body: JSON only', async () => {
      const response = await t.http
        .post('/admin/operations')
        .set(t.admin)
        .type('form')
        .send('operator_id=FR*AB1&business_details[name]=x')
        .expect(415);
      expect(response.body).toEqual({
        status: 415,
        error: 'Send the body as JSON, with the header Content-Type: application/json',
      });
      expect(await tableCount()).toBe('0');
    });

    it('answers 400, not a stack overflow, on a body nested thousands of levels deep', async () => {
      const deep = '['.repeat(5000) + ']'.repeat(5000);
      const response = await t.http
        .post('/admin/operations')
        .set(t.admin)
        .set('Content-Type', 'application/json')
        .send(`{"operator_id":"FR*AB1","business_details":{"name":"x"},"extra":${deep}}`)
        .expect(400);
      expect(response.body.fields).toEqual([
        { field: 'body', message: expect.stringMatching(/nested/) },
      ]);
      expect(await tableCount()).toBe('0');
    });

    it('answers 413 on a body over the size limit', async () => {
      await create({
        operator_id: 'FR*AB1',
        business_details: { name: 'x'.repeat(200_000) },
      }).expect(413);
      expect(await tableCount()).toBe('0');
    });
  });

  describe('authorization', () => {
    it.each([
      ['no Authorization header', undefined],
      ['a wrong token', 'Bearer not-the-admin-token'],
      ['the token without its scheme', 'test-admin-token-0123456789abcdef'],
      ['the OCPI scheme', 'Token test-admin-token-0123456789abcdef'],
      ['an empty bearer', 'Bearer '],
    ])('answers 401 with %s, on every admin route', async (_case, header) => {
      const routes = [
        t.http
          .post('/admin/operations')
          .send({ operator_id: 'FR*AB1', business_details: businessDetails }),
        t.http.get('/admin/operations'),
        t.http.get('/admin/operations/FR*AB1'),
        t.http.patch('/admin/operations/FR*AB1').send({}),
        t.http.delete('/admin/operations/FR*AB1'),
      ];
      for (const route of routes) {
        const response = await (header ? route.set('Authorization', header) : route).expect(401);
        expect(response.headers['www-authenticate']).toBe('Bearer');
        expect(response.body).toEqual({ status: 401, error: expect.stringMatching(/admin token/) });
      }
      expect(await tableCount()).toBe('0');
    });
  });

  describe('GET /admin/operations', () => {
    beforeEach(async () => {
      for (const id of ['NL*TNM', 'FR*AB2', 'BE*001', 'FR*AB1', 'DE*ZZZ']) {
        await create({ operator_id: id, business_details: { name: id } }).expect(201);
      }
    });

    it('lists by operator id with the total', async () => {
      const response = await t.http.get('/admin/operations').set(t.admin).expect(200);
      expect(operatorIds(response.body)).toEqual([
        'BE*001',
        'DE*ZZZ',
        'FR*AB1',
        'FR*AB2',
        'NL*TNM',
      ]);
      expect(response.body).toMatchObject({ total: 5, offset: 0, limit: 50 });
    });

    it('pages with offset and limit', async () => {
      const response = await t.http
        .get('/admin/operations?offset=1&limit=2')
        .set(t.admin)
        .expect(200);
      expect(operatorIds(response.body)).toEqual(['DE*ZZZ', 'FR*AB1']);
      expect(response.body).toMatchObject({ total: 5, offset: 1, limit: 2 });
    });

    it('answers an empty page past the end, with the total', async () => {
      const response = await t.http.get('/admin/operations?offset=10').set(t.admin).expect(200);
      expect(response.body).toEqual({ items: [], total: 5, offset: 10, limit: 50 });
    });

    it('takes the maximum limit of 500', async () => {
      await t.http.get('/admin/operations?limit=500').set(t.admin).expect(200);
    });

    it.each([
      ['limit=501', 'limit', /500/],
      ['limit=0', 'limit', /1/],
      ['offset=-1', 'offset', /0/],
      ['offset=abc', 'offset', /whole number/],
      ['limit=2.5', 'limit', /whole number/],
      ['sort=name', 'sort', /should not exist/],
    ])('answers 400 for ?%s naming %s', async (query, field, message) => {
      const response = await t.http.get(`/admin/operations?${query}`).set(t.admin).expect(400);
      expect(response.body.fields).toEqual([{ field, message: expect.stringMatching(message) }]);
    });
  });

  describe('GET, PATCH and DELETE /admin/operations/{operation}', () => {
    let id: string;
    beforeEach(async () => {
      id = (await create({ operator_id: 'FR*AB1', business_details: businessDetails }).expect(201))
        .body.id;
    });

    it.each(['FR*AB1', 'FRAB1', 'frab1', 'fr*ab1', 'FR%2AAB1'])(
      'finds the operation as %s',
      async (ref) => {
        const response = await t.http.get(`/admin/operations/${ref}`).set(t.admin).expect(200);
        expect(response.body).toMatchObject({ id, operator_id: 'FR*AB1' });
      },
    );

    it('finds the operation by its id', async () => {
      await t.http.get(`/admin/operations/${id}`).set(t.admin).expect(200);
    });

    it.each(['FR*AB2', 'XX*AB1', 'nonsense', '00000000-0000-4000-8000-000000000000', "FR*AB1'--"])(
      'answers 404 for %s',
      async (ref) => {
        const response = await t.http
          .get(`/admin/operations/${encodeURIComponent(ref)}`)
          .set(t.admin)
          .expect(404);
        expect(response.body).toEqual({
          status: 404,
          error: expect.stringContaining('No operation'),
        });
      },
    );

    it('replaces the business details and the advertised endpoints', async () => {
      const endpoints = [
        { identifier: 'tariffs', url: 'https://cpo.example/tariffs' },
        { identifier: 'frab1-chargingprofiles', url: 'https://cpo.example/cp' },
      ];
      const response = await t.http
        .patch('/admin/operations/frab1')
        .set(t.admin)
        .send({ business_details: { name: 'Renamed' }, endpoints })
        .expect(200);
      expect(response.body).toMatchObject({ business_details: { name: 'Renamed' }, endpoints });
      expect(Date.parse(response.body.updated_at)).toBeGreaterThan(
        Date.parse(response.body.created_at),
      );
      const [row] = await db.query('SELECT business_details, endpoints FROM operations');
      expect(row).toEqual({ business_details: { name: 'Renamed' }, endpoints });
    });

    it('leaves what the patch does not name', async () => {
      const response = await t.http
        .patch('/admin/operations/FR*AB1')
        .set(t.admin)
        .send({ endpoints: [] })
        .expect(200);
      expect(response.body.business_details).toEqual(businessDetails);
    });

    it.each([
      [{ operator_id: 'DE*AB1' }, 'operator_id', /should not exist/],
      [{ business_details: { name: '' } }, 'business_details.name', /non-empty/],
      [
        { endpoints: [{ identifier: 'deab1-x', url: 'https://x.example' }] },
        'endpoints[0].identifier',
        /frab1-/,
      ],
    ])('answers 400 for %j and changes nothing', async (body, field, message) => {
      const response = await t.http
        .patch('/admin/operations/FR*AB1')
        .set(t.admin)
        .send(body)
        .expect(400);
      expect(response.body.fields).toEqual([{ field, message: expect.stringMatching(message) }]);
      const [row] = await db.query('SELECT business_details, endpoints FROM operations');
      expect(row).toEqual({ business_details: businessDetails, endpoints: [] });
    });

    it('answers 404 when patching an unknown operation', async () => {
      await t.http
        .patch('/admin/operations/FR*ZZZ')
        .set(t.admin)
        .send({ endpoints: [] })
        .expect(404);
    });

    it('deletes the operation and its connection', async () => {
      await t.http.delete('/admin/operations/FRAB1').set(t.admin).expect(204);
      expect(await tableCount()).toBe('0');
      expect(await db.query('SELECT * FROM connections')).toEqual([]);
      await t.http.get('/admin/operations/FRAB1').set(t.admin).expect(404);
    });

    it('answers 404 when deleting an unknown operation', async () => {
      await t.http.delete('/admin/operations/FR*ZZZ').set(t.admin).expect(404);
    });

    it('answers 409 when deleting a registered operation, and keeps it', async () => {
      await db.query("UPDATE connections SET status = 'REGISTERED', initiated_by = 'PEER'");
      const response = await t.http.delete('/admin/operations/FR*AB1').set(t.admin).expect(409);
      expect(response.body.error).toMatch(/registered/);
      expect(await tableCount()).toBe('1');
    });
  });
});
