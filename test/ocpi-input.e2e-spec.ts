import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { createOperation, mintTokenA, OCPI_TIMESTAMP, tokenHeader } from './support/ocpi.js';
import { useHarness } from './support/harness.js';

const CREDENTIALS = '/ocpi/FR/AB1/2.1.1/credentials';
const VERSIONS = '/ocpi/FR/AB1/versions';

type Body = Record<string, unknown> & { business_details: Record<string, unknown> };

interface BadInput {
  /** What is wrong, as the test name says it. */
  what: string;
  /** The body from a fresh valid one: an object goes as JSON, a string as raw bytes. */
  body: (valid: Body) => unknown;
  /** What the status message must name: the bad field, or the body itself. */
  names: RegExp;
}

const without =
  (field: string) =>
  ({ [field]: _dropped, ...rest }: Body) =>
    rest;
const withField = (field: string, value: unknown) => (valid: Body) => ({
  ...valid,
  [field]: value,
});
const withBusiness = (field: string, value: unknown) => (valid: Body) => ({
  ...valid,
  business_details: { ...valid.business_details, [field]: value },
});

const NOT_JSON = /The request body is not valid JSON/;
const TOKEN = /\btoken: must be 1 to 64 printable ASCII characters without spaces/;
const PEER_URL = /\burl: must be an absolute http\(s\) URL of at most 255 characters/;
const BUSINESS = /\bbusiness_details: /;
const PARTY = /\bparty_id: must be 3 letters or digits/;
const COUNTRY = /\bcountry_code: must be 2 letters/;
/** A refusal that names the token, or the body as a whole. */
const TOKEN_OR_BODY = /\btoken: |The request body |nested more than/;

const DEEP = 20_000;
/** `[[[…]]]`, `depth` arrays deep: 2 bytes a level. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** Bodies and headers that POST and PUT credentials must refuse with 400 / 2001. */
const BAD_INPUTS: BadInput[] = [
  { what: 'no token', body: without('token'), names: TOKEN },
  { what: 'no url', body: without('url'), names: PEER_URL },
  { what: 'no business_details', body: without('business_details'), names: BUSINESS },
  { what: 'no party_id', body: without('party_id'), names: PARTY },
  { what: 'no country_code', body: without('country_code'), names: COUNTRY },
  { what: 'an empty object', body: () => ({}), names: TOKEN },
  { what: 'a token that is a number', body: withField('token', 123456), names: TOKEN },
  { what: 'a token that is null', body: withField('token', null), names: TOKEN },
  { what: 'a token that is an array', body: withField('token', ['tok']), names: TOKEN },
  { what: 'a token of 65 characters', body: withField('token', 't'.repeat(65)), names: TOKEN },
  { what: 'a token with a space', body: withField('token', 'peer token'), names: TOKEN },
  { what: 'an empty token', body: withField('token', ''), names: TOKEN },
  { what: 'a token with a non-ASCII letter', body: withField('token', 'tökén'), names: TOKEN },
  { what: 'a relative url', body: withField('url', '/ocpi/emsp/versions'), names: PEER_URL },
  {
    what: 'a url without scheme',
    body: withField('url', 'peer.example/versions'),
    names: PEER_URL,
  },
  { what: 'an ftp url', body: withField('url', 'ftp://peer.example/versions'), names: PEER_URL },
  {
    what: 'a url of 256 characters',
    body: withField('url', `https://peer.example/${'v'.repeat(256 - 21)}`),
    names: PEER_URL,
  },
  { what: 'a url that is a number', body: withField('url', 42), names: PEER_URL },
  {
    what: 'business_details that is a string',
    body: withField('business_details', 'NAME'),
    names: BUSINESS,
  },
  {
    what: 'business_details that is an array',
    body: withField('business_details', [{ name: 'NAME' }]),
    names: BUSINESS,
  },
  {
    what: 'business_details without a name',
    body: (valid) => ({ ...valid, business_details: { website: 'http://xxx.com' } }),
    names: /\bbusiness_details\.name: must be a non-empty string of at most 100 characters/,
  },
  {
    what: 'an empty business_details.name',
    body: withBusiness('name', ''),
    names: /\bbusiness_details\.name: must be a non-empty string of at most 100 characters/,
  },
  {
    what: 'a business_details.name of 101 characters',
    body: withBusiness('name', 'n'.repeat(101)),
    names: /\bbusiness_details\.name: must be a non-empty string of at most 100 characters/,
  },
  {
    what: 'a business_details.name that is a number',
    body: withBusiness('name', 7),
    names: /\bbusiness_details\.name: /,
  },
  {
    what: 'a website that is not a URL',
    body: withBusiness('website', 'not a url'),
    names: /\bbusiness_details\.website: must be an absolute http\(s\) URL/,
  },
  { what: 'a party_id of 2 characters', body: withField('party_id', 'PI'), names: PARTY },
  { what: 'a party_id of 4 characters', body: withField('party_id', 'PIDX'), names: PARTY },
  { what: "a party_id with '*'", body: withField('party_id', 'P*D'), names: PARTY },
  { what: 'a party_id that is a number', body: withField('party_id', 123), names: PARTY },
  { what: 'a country_code of 3 letters', body: withField('country_code', 'FRA'), names: COUNTRY },
  { what: 'a country_code of digits', body: withField('country_code', '33'), names: COUNTRY },
  {
    what: 'a body that is not JSON',
    body: () => 'token=peer-token&url=http://peer.example',
    names: NOT_JSON,
  },
  { what: 'truncated JSON', body: (valid) => JSON.stringify(valid).slice(0, 40), names: NOT_JSON },
  { what: 'a body that is a JSON array', body: (valid) => [valid], names: TOKEN },
  { what: 'a body that is JSON null', body: () => 'null', names: NOT_JSON },
  { what: 'a body that is a JSON string', body: () => '"credentials"', names: NOT_JSON },
  { what: 'an empty body', body: () => '', names: TOKEN },
  // Valid JSON well under 100kb that only recursion on the server side chokes on.
  {
    what: `a JSON array nested ${DEEP} deep (${(2 * DEEP) / 1000} kB)`,
    body: () => nested(DEEP),
    names: TOKEN_OR_BODY,
  },
  {
    what: `an empty token beside an extra field nested ${DEEP} deep`,
    body: (valid) =>
      `${JSON.stringify({ ...valid, token: '' }).slice(0, -1)},"extra":${nested(DEEP)}}`,
    names: TOKEN_OR_BODY,
  },
];

/** A body over the 100kb limit: 413, still OCPI status 2001. */
const huge = (valid: Body) => ({ ...valid, padding: 'x'.repeat(101 * 1024) });

describe('OCPI input: bad bodies, headers and paths change nothing', () => {
  const t = useHarness({ peer: true });
  const { db, peer } = t;
  let tokenA: string;
  let otherTokenA: string;

  beforeAll(async () => {
    // A peer token of this run only, so that finding it in the database means it leaked.
    peer.expectedToken = `peer-token-${randomBytes(12).toString('hex')}`;
    await createOperation(t);
    await createOperation(t, 'DE*XYZ', 'Operation XYZ');
    tokenA = await mintTokenA(t);
    otherTokenA = await mintTokenA(t, 'DE*XYZ');
  });

  const connection = async () =>
    (await t.http.get('/admin/operations/FR*AB1/connection').set(t.admin).expect(200))
      .body as Record<string, unknown>;
  const handshakeCount = async () =>
    (await t.http.get('/admin/operations/FR*AB1/handshakes').set(t.admin).expect(200)).body
      .total as number;

  const valid = () => structuredClone(peer.credentials()) as Body;

  const sendBad = (method: 'post' | 'put', token: string, input: BadInput) => {
    const body = input.body(valid());
    const request = t.http[method](CREDENTIALS)
      .set(tokenHeader(token))
      .set('Content-Type', 'application/json');
    return typeof body === 'string' ? request.send(body) : request.send(body as object);
  };

  const expectInvalid = (response: Response, names: RegExp, status = 400) => {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      status_code: 2001,
      status_message: expect.stringMatching(/^Invalid or missing parameters: /),
      timestamp: expect.stringMatching(OCPI_TIMESTAMP),
    });
    expect(response.body).not.toHaveProperty('data');
    expect(response.body.status_message).toMatch(names);
  };

  it('has enough bad inputs to mean something', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
  });

  describe('POST credentials with token A, unregistered', () => {
    let before: Record<string, unknown>;
    beforeAll(async () => {
      before = await connection();
      expect(before).toMatchObject({ status: 'UNREGISTERED', peer: null });
    });

    const expectNothingChanged = async () => {
      expect(peer.received).toEqual([]);
      expect(await connection()).toEqual(before);
      expect(await handshakeCount()).toBe(0);
      await t.http.get(VERSIONS).set(tokenHeader(tokenA)).expect(200);
    };

    it.each(BAD_INPUTS)('answers 400 / 2001 to $what', async (input) => {
      peer.reset();
      expectInvalid(await sendBad('post', tokenA, input), input.names);
      await expectNothingChanged();
    });

    it('answers 413 / 2001 to a body over 100kb', async () => {
      peer.reset();
      const response = await t.http.post(CREDENTIALS).set(tokenHeader(tokenA)).send(huge(valid()));
      expectInvalid(response, /The request body is too large/, 413);
      await expectNothingChanged();
    });

    it('answers 415 / 2001 naming Content-Type to a JSON body sent as text/plain', async () => {
      peer.reset();
      const response = await t.http
        .post(CREDENTIALS)
        .set(tokenHeader(tokenA))
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify(valid()));
      expectInvalid(response, /Content-Type: application\/json/, 415);
      await expectNothingChanged();
    });

    it.each([
      [
        'a charset body-parser does not read',
        { 'Content-Type': 'application/json; charset=latin1' },
      ],
      ['an unsupported Content-Encoding', { 'Content-Encoding': 'compress' }],
    ])('answers 4xx in the envelope to %s', async (_what, headers) => {
      peer.reset();
      const response = await t.http
        .post(CREDENTIALS)
        .set(tokenHeader(tokenA))
        .set('Content-Type', 'application/json')
        .set(headers)
        .send(JSON.stringify(valid()));
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.body).toEqual({
        // Refused for the body (unreadable charset or encoding): 2001 like any bad body.
        status_code: [400, 413, 415].includes(response.status) ? 2001 : 2000,
        status_message: expect.any(String),
        timestamp: expect.stringMatching(OCPI_TIMESTAMP),
      });
      await expectNothingChanged();
    });

    it('answers 405 to PUT with token A before looking at the body', async () => {
      peer.reset();
      const response = await t.http
        .put(CREDENTIALS)
        .set(tokenHeader(tokenA))
        .send(without('token')(valid()))
        .expect(405);
      expect(response.body).toEqual({
        status_code: 2000,
        status_message: 'The peer is not registered',
        timestamp: expect.stringMatching(OCPI_TIMESTAMP),
      });
      await expectNothingChanged();
    });
  });

  describe('Authorization on GET versions', () => {
    const cases: [string, () => Record<string, string>][] = [
      ['no Authorization', () => ({})],
      [
        'the Base64 of a real token A (OCPI 2.2 style)',
        () => tokenHeader(Buffer.from(tokenA).toString('base64')),
      ],
      ['Bearer {token A}', () => ({ Authorization: `Bearer ${tokenA}` })],
      ['token A without a scheme', () => ({ Authorization: tokenA })],
      ['an empty Token', () => ({ Authorization: 'Token ' })],
      ['a 10 kB token', () => tokenHeader('t'.repeat(10 * 1024))],
      ['Token a b', () => ({ Authorization: 'Token a b' })],
      ['token A followed by a space and more', () => tokenHeader(`${tokenA} ${tokenA}`)],
      ['the token A of another operation (DE*XYZ)', () => tokenHeader(otherTokenA)],
    ];

    it.each(cases)('answers 401 / 2000 with WWW-Authenticate to %s', async (_what, headers) => {
      const response = await t.http.get(VERSIONS).set(headers()).expect(401);
      expect(response.headers['www-authenticate']).toBe('Token');
      expect(response.body).toEqual({
        status_code: 2000,
        status_message: expect.any(String),
        timestamp: expect.stringMatching(OCPI_TIMESTAMP),
      });
    });

    it('still opens versions to both token A, each on its own operation', async () => {
      await t.http.get(VERSIONS).set(tokenHeader(tokenA)).expect(200);
      await t.http.get('/ocpi/DE/XYZ/versions').set(tokenHeader(otherTokenA)).expect(200);
      await t.http.get('/ocpi/DE/XYZ/versions').set(tokenHeader(tokenA)).expect(401);
    });
  });

  describe('paths', () => {
    const cases: [string, string][] = [
      ['an unknown operation', '/ocpi/FR/ZZZ/versions'],
      ['a country code that is not ISO 3166', '/ocpi/XX/AB1/versions'],
      ['an encoded slash in the party id', '/ocpi/FR/A%2FB/versions'],
      ['SQL in the party id', "/ocpi/FR/AB1'--/versions"],
      ['SQL in the party id, encoded', '/ocpi/FR/AB1%27%20OR%20%271%27%3D%271/versions'],
      ['an encoded path traversal', '/ocpi/..%2F..%2Fadmin/versions'],
      ['a path traversal in the party id', '/ocpi/FR/..%2F..%2Fadmin%2Foperations/versions'],
      ['an unknown version', '/ocpi/FR/AB1/2.2/credentials'],
      ['a bare /ocpi/', '/ocpi/'],
    ];

    it('answers 401 / 2000 to a module path with a token A: modules open to the connection token only', async () => {
      const response = await t.http.get('/ocpi/FR/AB1/2.1.1/locations').set(tokenHeader(tokenA));
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ status_code: 2000 });
    });

    it.each(cases)('answers 404 / 2000 to %s, with a valid token A', async (_what, path) => {
      const response = await t.http.get(path).set(tokenHeader(tokenA));
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        status_code: 2000,
        status_message: expect.any(String),
        timestamp: expect.stringMatching(OCPI_TIMESTAMP),
      });
    });

    it('answers 404 / 2000 to POST credentials of an unknown operation, body unread', async () => {
      peer.reset();
      const response = await t.http
        .post('/ocpi/FR/ZZZ/2.1.1/credentials')
        .set(tokenHeader(tokenA))
        .send(valid())
        .expect(404);
      expect(response.body).toMatchObject({ status_code: 2000 });
      expect(peer.received).toEqual([]);
    });
  });

  describe('a valid registration, then PUT credentials with the connection token', () => {
    let tokenC: string;
    let before: Record<string, unknown>;
    /** The first token C and peer token, replaced by the PUT below. */
    const previousSecrets: string[] = [];

    it('accepts unknown extra fields in an otherwise valid POST (roles: [])', async () => {
      peer.reset();
      const response = await t.http
        .post(CREDENTIALS)
        .set(tokenHeader(tokenA))
        .send({ ...valid(), roles: [] })
        .expect(200);
      expect(response.body).toMatchObject({
        data: { token: expect.stringMatching(/^[\w-]{43}$/), party_id: 'AB1', country_code: 'FR' },
        status_code: 1000,
        status_message: 'Success',
      });
      tokenC = response.body.data.token;
      expect(peer.received.map((r) => [r.method, r.path])).toEqual([
        ['GET', '/ocpi/emsp/versions'],
        ['GET', '/ocpi/emsp/2.1.1'],
      ]);
      before = await connection();
      expect(before).toMatchObject({ status: 'REGISTERED', peer: { party_id: 'PID' } });
    });

    const expectNothingChanged = async () => {
      expect(peer.received).toEqual([]);
      expect(await connection()).toEqual(before);
      expect(await handshakeCount()).toBe(1);
      await t.http.get(CREDENTIALS).set(tokenHeader(tokenC)).expect(200);
    };

    it.each(BAD_INPUTS)('answers PUT 400 / 2001 to $what', async (input) => {
      peer.reset();
      expectInvalid(await sendBad('put', tokenC, input), input.names);
      await expectNothingChanged();
    });

    it('answers PUT 413 / 2001 to a body over 100kb', async () => {
      peer.reset();
      const response = await t.http.put(CREDENTIALS).set(tokenHeader(tokenC)).send(huge(valid()));
      expectInvalid(response, /The request body is too large/, 413);
      await expectNothingChanged();
    });

    it('accepts on PUT every field at its longest: 64-character token of punctuation, 255-character url', async () => {
      peer.reset();
      const firstPeerToken = peer.expectedToken;
      const punctuation = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
      peer.expectedToken = `${punctuation}${randomBytes(16).toString('hex')}`;
      expect(peer.expectedToken).toHaveLength(64);
      const prefix = `${peer.baseUrl}/ocpi/emsp/`;
      const url = `${prefix}${'v'.repeat(255 - prefix.length - '/versions'.length)}/versions`;
      expect(url).toHaveLength(255);
      const body = {
        ...valid(),
        url,
        business_details: {
          name: 'n'.repeat(100),
          logo: { url: 'https://peer.example/logo.jpeg', category: 'OWNER', type: 'jpeg' },
        },
        party_id: 'p1d',
        country_code: 'fr',
      };
      const response = await t.http
        .put(CREDENTIALS)
        .set(tokenHeader(tokenC))
        .send(body)
        .expect(200);
      expect(response.body.status_code).toBe(1000);
      expect(peer.received.map((r) => [r.path, r.authorization])).toEqual([
        [new URL(url).pathname, `Token ${peer.expectedToken}`],
        ['/ocpi/emsp/2.1.1', `Token ${peer.expectedToken}`],
      ]);
      expect(await connection()).toMatchObject({
        status: 'REGISTERED',
        peer: { versions_url: url, business_details: body.business_details },
      });
      previousSecrets.push(tokenC, firstPeerToken);
      tokenC = response.body.data.token;
      await t.http.get(CREDENTIALS).set(tokenHeader(tokenC)).expect(200);
    });

    it('stores no token in clear: not token A, not token C, not the peer token', async () => {
      const secrets: Record<string, string> = {
        tokenA,
        tokenC,
        otherTokenA,
        peerToken: peer.expectedToken,
        ...Object.fromEntries(previousSecrets.map((secret, i) => [`previous${i}`, secret])),
      };
      expect(Object.keys(secrets)).toHaveLength(6);
      const columns = await db.query<{
        table_name: string;
        column_name: string;
        data_type: string;
      }>(
        `SELECT table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
      );
      const tables = [...new Set(columns.map((c) => c.table_name))];
      expect(tables).toEqual(
        expect.arrayContaining(['connections', 'handshakes', 'issued_tokens', 'operations']),
      );
      let dump = '';
      for (const table of tables) {
        const rows = await db.query<{ row: string }>(
          `SELECT row_to_json(t)::text AS row FROM "${table}" t`,
        );
        dump += rows.map((r) => `${r.row}\n`).join('');
      }
      // The dump is real: it holds what the registration stored, and the peer token's cipher.
      expect(dump).toContain(peer.versionsUrl);
      expect(dump).toContain('peer_token_encrypted');
      for (const [name, secret] of Object.entries(secrets)) {
        expect({ name, found: dump.includes(secret) }).toEqual({ name, found: false });
      }
      const byteaColumns = columns.filter((c) => c.data_type === 'bytea');
      expect(byteaColumns.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
        expect.arrayContaining(['connections.peer_token_encrypted', 'issued_tokens.hash']),
      );
      // The search works on bytea: token A's SHA-256, which is what is kept, is found.
      const [{ hashes }] = await db.query<{ hashes: string }>(
        `SELECT count(*) AS hashes FROM issued_tokens
          WHERE position(sha256(convert_to($1, 'UTF8')) in hash) > 0`,
        [tokenA],
      );
      expect(hashes).toBe('1');
      for (const { table_name, column_name } of byteaColumns) {
        for (const [name, secret] of Object.entries(secrets)) {
          const [{ hits }] = await db.query<{ hits: string }>(
            `SELECT count(*) AS hits FROM "${table_name}"
              WHERE position(convert_to($1, 'UTF8') in "${column_name}") > 0`,
            [secret],
          );
          expect({ column: `${table_name}.${column_name}`, name, hits }).toEqual({
            column: `${table_name}.${column_name}`,
            name,
            hits: '0',
          });
        }
      }
    });
  });

  describe('a form-encoded POST (not JSON) on an operation of its own', () => {
    it('answers 415 / 2001 and does not register', async () => {
      await createOperation(t, 'FR*FRM', 'Operation FRM');
      const token = await mintTokenA(t, 'FR*FRM');
      peer.reset();
      const form = new URLSearchParams({
        token: peer.expectedToken,
        url: peer.versionsUrl,
        'business_details[name]': 'NAME',
        party_id: 'PID',
        country_code: 'FR',
      });
      const response = await t.http
        .post('/ocpi/FR/FRM/2.1.1/credentials')
        .set(tokenHeader(token))
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(form.toString());
      expectInvalid(response, /Content-Type: application\/json/, 415);
      expect(peer.received).toEqual([]);
      const after = await t.http.get('/admin/operations/FR*FRM/connection').set(t.admin);
      expect(after.body).toMatchObject({ status: 'UNREGISTERED' });
    });
  });
});
