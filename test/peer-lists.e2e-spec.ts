import type { IncomingMessage, ServerResponse } from 'node:http';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { useHarness } from './support/harness.js';
import { LoopbackServer } from './support/loopback-server.js';

/**
 * DESIGN section 11: what a peer lists is bounded before it is used or stored. Its versions list
 * and its version details have at most 100 entries; an endpoint's identifier is a string of at
 * most 64 characters (as our own endpoints: OCPI's ModuleID), every URL an absolute http(s) URL of
 * at most 255 characters (OCPI `url` string(255)), a version a string of at most 16. Anything else
 * fails the handshake with 3001 (502 on the admin API), naming what was wrong, and stores nothing.
 */

/** A peer that answers its versions and version details with whatever the test sets. */
class ListingPeer extends LoopbackServer {
  versions: unknown = undefined;
  details: unknown = undefined;

  override async start(): Promise<this> {
    await super.start();
    this.reset();
    return this;
  }

  /** A well-formed answer: 2.1.1 at /details, credentials and `extra` endpoints. */
  reset(extra: unknown[] = []): void {
    this.versions = [{ version: '2.1.1', url: `${this.baseUrl}/details` }];
    this.details = {
      version: '2.1.1',
      endpoints: [{ identifier: 'credentials', url: `${this.baseUrl}/credentials` }, ...extra],
    };
  }

  protected override handle(req: IncomingMessage, res: ServerResponse): void {
    const data = req.url === '/versions' ? this.versions : this.details;
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ data, status_code: 1000, timestamp: '2026-01-01T00:00:00Z' }));
  }
}

const endpoint = (identifier: unknown, url: unknown) => ({ identifier, url });
const endpoints = (n: number, base: string) =>
  Array.from({ length: n }, (_, i) => endpoint(`module${i}`, `${base}/module/${i}`));

describe("Bounds on a peer's versions and version details", () => {
  // One operation takes a token A per case.
  const t = useHarness({ app: { maxActiveRegistrationTokens: 100 } });
  const peer = new ListingPeer();
  const { db } = t;

  beforeAll(async () => {
    await peer.start();
    t.onClose(() => peer.stop());
    await createOperation(t, 'FR*LS1');
    await createOperation(t, 'FR*LS2');
  });
  beforeEach(() => peer.reset());

  const storedEndpoints = async (party: string) =>
    (
      await db.query<{ n: number }>(
        `SELECT jsonb_array_length(c.peer_endpoints)::int AS n FROM connections c
         JOIN operations o ON o.id = c.operation_id WHERE o.party_id = $1`,
        [party],
      )
    )[0].n;

  const fromIop = async () => {
    const tokenA = await mintTokenA(t, 'FR*LS1');
    return t.http
      .post('/ocpi/FR/LS1/2.1.1/credentials')
      .set(tokenHeader(tokenA))
      .send({
        url: `${peer.baseUrl}/versions`,
        token: 'peer-token-ls1',
        party_id: 'LST',
        country_code: 'FR',
        business_details: { name: 'Listing peer' },
      });
  };
  const register = () =>
    t.http
      .post('/admin/operations/FR*LS2/register')
      .set(t.admin)
      .send({ versions_url: `${peer.baseUrl}/versions`, token: 'peer-token-a-ls2' });

  type Case = [string, (base: string) => void, 'versions' | 'version_details', RegExp];
  const setDetails = (list: (base: string) => unknown[]) => (base: string) => {
    peer.details = { version: '2.1.1', endpoints: list(base) };
  };
  const setVersions = (list: (base: string) => unknown[]) => (base: string) => {
    peer.versions = list(base);
  };
  const CREDENTIALS = (base: string) => endpoint('credentials', `${base}/credentials`);
  const VERSION = (base: string) => ({ version: '2.1.1', url: `${base}/details` });
  const URL_RULE = 'must be an absolute http\\(s\\) URL of at most 255 characters';

  const CASES: Case[] = [
    [
      '3,300 endpoints',
      setDetails((base) => [CREDENTIALS(base), ...endpoints(3_299, base)]),
      'version_details',
      /answered version details with 3300 endpoints \(at most 100 are accepted\)/,
    ],
    [
      '101 endpoints',
      setDetails((base) => [CREDENTIALS(base), ...endpoints(100, base)]),
      'version_details',
      /answered version details with 101 endpoints \(at most 100 are accepted\)/,
    ],
    [
      'an identifier of 65 characters',
      setDetails((base) => [CREDENTIALS(base), endpoint('m'.repeat(65), `${base}/m`)]),
      'version_details',
      /endpoints\[1\]\.identifier: must be a non-empty string of at most 64 characters/,
    ],
    [
      'an identifier of 5,000 characters',
      setDetails((base) => [endpoint('m'.repeat(5_000), `${base}/m`), CREDENTIALS(base)]),
      'version_details',
      /endpoints\[0\]\.identifier: must be a non-empty string of at most 64 characters/,
    ],
    [
      'an empty identifier',
      setDetails((base) => [CREDENTIALS(base), endpoint('', `${base}/m`)]),
      'version_details',
      /endpoints\[1\]\.identifier: must be a non-empty/,
    ],
    [
      'an identifier that is a number',
      setDetails((base) => [CREDENTIALS(base), endpoint(7, `${base}/m`)]),
      'version_details',
      /endpoints\[1\]\.identifier: must be a non-empty string/,
    ],
    [
      'a URL of 256 characters',
      setDetails((base) => [CREDENTIALS(base), endpoint('locations', `${base}/`.padEnd(256, 'x'))]),
      'version_details',
      new RegExp(`endpoints\\[1\\]\\.url: ${URL_RULE}`),
    ],
    [
      'a relative URL',
      setDetails((base) => [CREDENTIALS(base), endpoint('locations', '/ocpi/locations')]),
      'version_details',
      new RegExp(`endpoints\\[1\\]\\.url: ${URL_RULE}`),
    ],
    [
      'a javascript: URL',
      setDetails((base) => [CREDENTIALS(base), endpoint('locations', 'javascript:alert(1)')]),
      'version_details',
      new RegExp(`endpoints\\[1\\]\\.url: ${URL_RULE}`),
    ],
    [
      'a credentials URL with a password',
      setDetails((base) => [endpoint('credentials', base.replace('//', '//u:p@') + '/c')]),
      'version_details',
      /endpoints\[0\]\.url: .*without user or password/,
    ],
    [
      'an endpoint that is not an object',
      setDetails((base) => [CREDENTIALS(base), 'locations']),
      'version_details',
      /endpoints\[1\]: must be an object/,
    ],
    [
      'many bad endpoints (the first three named)',
      setDetails((base) => [CREDENTIALS(base), ...Array.from({ length: 5 }, () => 'x')]),
      'version_details',
      /endpoints\[1\]: must be an object; endpoints\[2\]: .*; endpoints\[3\]: .*; 2 more\)/,
    ],
    [
      '101 versions',
      setVersions((base) => [
        VERSION(base),
        ...Array.from({ length: 100 }, (_, i) => ({ version: `9.${i}`, url: `${base}/v/${i}` })),
      ]),
      'versions',
      /answered versions list with 101 versions \(at most 100 are accepted\)/,
    ],
    [
      'a version URL of 256 characters',
      setVersions((base) => [{ version: '2.1.1', url: `${base}/`.padEnd(256, 'd') }]),
      'versions',
      new RegExp(`versions\\[0\\]\\.url: ${URL_RULE}`),
    ],
    [
      'a version of 17 characters',
      setVersions((base) => [VERSION(base), { version: '2.'.padEnd(17, '1'), url: `${base}/x` }]),
      'versions',
      /versions\[1\]\.version: must be a non-empty string of at most 16 characters/,
    ],
    [
      'a version entry without a URL',
      setVersions((base) => [VERSION(base), { version: '2.2' }]),
      'versions',
      new RegExp(`versions\\[1\\]\\.url: ${URL_RULE}`),
    ],
  ];

  it.each(CASES)(
    'FromIOP: a peer listing %s fails the POST with 3001, naming why; nothing stored',
    async (_what, set, _step, why) => {
      set(peer.baseUrl);
      const response = await fromIop();
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        status_code: 3001,
        status_message: expect.stringMatching(why),
        timestamp: expect.any(String),
      });
      expect(await storedEndpoints('LS1')).toBe(0);
    },
  );

  it.each(CASES)(
    'ToIOP: a peer listing %s fails the registration with 502 at its step, naming why',
    async (_what, set, step, why) => {
      set(peer.baseUrl);
      const response = await register().expect(502);
      expect(response.body).toEqual({ status: 502, step, error: expect.stringMatching(why) });
      expect(await storedEndpoints('LS2')).toBe(0);
      const history = await t.http
        .get('/admin/operations/FR*LS2/handshakes?limit=1')
        .set(t.admin)
        .expect(200);
      expect(history.body.items[0]).toMatchObject({
        outcome: 'FAILED',
        error: expect.stringMatching(why),
      });
    },
  );

  it('stores a peer that lists exactly 100 endpoints of 64-character identifiers and 255-character URLs', async () => {
    const long = (i: number) => `${peer.baseUrl}/${String(i).padStart(3, '0')}/`.padEnd(255, 'u');
    peer.details = {
      version: '2.1.1',
      endpoints: [
        endpoint('credentials', `${peer.baseUrl}/credentials`),
        ...Array.from({ length: 99 }, (_, i) =>
          endpoint(`m${String(i).padStart(2, '0')}`.padEnd(64, 'x'), long(i)),
        ),
      ],
    };
    peer.versions = [
      VERSION(peer.baseUrl),
      ...Array.from({ length: 99 }, (_, i) => ({
        version: `9.${i}`,
        url: `${peer.baseUrl}/v/${i}`,
      })),
    ];
    const response = await fromIop();
    expect(response.body.status_code).toBe(1000);
    expect(await storedEndpoints('LS1')).toBe(100);
  });
});
