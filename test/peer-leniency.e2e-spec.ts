import { useHarness } from './support/harness.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';

/** What a production OCPI 2.1.1 platform without a logo sends in its credentials. */
const NO_LOGO = { url: '', thumbnail: '', category: '', type: '' };
const LOGO = { url: 'https://peer.example/logo.png', category: 'OPERATOR', type: 'png' };

describe("A peer's empty optional fields and bad logo do not fail its registration", () => {
  const t = useHarness({ reachable: true, peer: true });
  let operation = 0;

  /** A fresh operation of its own for each case: its operator id. */
  const freshOperation = async () => {
    const operatorId = `FR*L${String(operation++).padStart(2, '0')}`;
    await createOperation(t, operatorId);
    return operatorId;
  };
  const stored = async (operatorId: string) =>
    (await t.http.get(`/admin/operations/${operatorId}/connection`).set(t.admin).expect(200))
      .body as { status: string; peer: { business_details: object } };
  const lastHandshake = async (operatorId: string) =>
    (
      (await t.http.get(`/admin/operations/${operatorId}/handshakes`).set(t.admin).expect(200))
        .body as { items: { outcome: string; error: string | null }[] }
    ).items[0];

  /** Registers FromIOP with these business details; answers the POST's response. */
  const registerFromPeer = async (businessDetails: unknown) => {
    const operatorId = await freshOperation();
    const tokenA = await mintTokenA(t, operatorId);
    const [cc, pid] = operatorId.split('*');
    const response = await t.http
      .post(`/ocpi/${cc}/${pid}/2.1.1/credentials`)
      .set(tokenHeader(tokenA))
      .send({ ...t.peer.credentials(), business_details: businessDetails });
    return { operatorId, response };
  };

  it('registers a peer whose logo is all empty strings, keeps no logo, and says so in the history', async () => {
    const { operatorId, response } = await registerFromPeer({ name: 'Hub', logo: NO_LOGO });
    expect(response.status).toBe(200);
    expect(response.body.status_code).toBe(1000);
    expect((await stored(operatorId)).peer.business_details).toEqual({ name: 'Hub' });
    expect(await lastHandshake(operatorId)).toMatchObject({
      outcome: 'SUCCEEDED',
      error: expect.stringMatching(/logo was left out: it is not a valid OCPI Image .*url/),
    });
  });

  it.each<[string, unknown, Record<string, unknown>]>([
    ['an empty website', { name: 'Hub', website: '' }, { name: 'Hub' }],
    ['a null website and logo', { name: 'Hub', website: null, logo: null }, { name: 'Hub' }],
    [
      'a logo with an empty thumbnail and null sizes',
      { name: 'Hub', logo: { ...LOGO, thumbnail: '', width: null, height: '' } },
      { name: 'Hub', logo: LOGO },
    ],
  ])('takes %s as absent, without a note', async (_what, details, expected) => {
    const { operatorId, response } = await registerFromPeer(details);
    expect(response.body.status_code).toBe(1000);
    expect((await stored(operatorId)).peer.business_details).toEqual(expected);
    expect(await lastHandshake(operatorId)).toMatchObject({ outcome: 'SUCCEEDED', error: null });
  });

  it.each<[string, unknown, RegExp]>([
    ['a logo that is a string', 'http://xxx.xxx.com/logo.png', /business_details\.logo: /],
    ['an unknown category', { ...LOGO, category: 'BANNER' }, /logo\.category: /],
    ['a javascript: url', { ...LOGO, url: 'javascript:alert(1)' }, /logo\.url: must be/],
    ['a type over 4 characters', { ...LOGO, type: 'jpeg2' }, /logo\.type: must be/],
    ['a width of 0', { ...LOGO, width: 0 }, /logo\.width: must be a whole number/],
    ['a height as a string', { ...LOGO, height: '44' }, /logo\.height: must be a whole number/],
  ])('drops a logo with %s and names the field in the history', async (_what, logo, names) => {
    const { operatorId, response } = await registerFromPeer({ name: 'Hub', logo });
    expect(response.body.status_code).toBe(1000);
    expect((await stored(operatorId)).peer.business_details).toEqual({ name: 'Hub' });
    expect((await lastHandshake(operatorId)).error).toMatch(names);
  });

  it.each<[string, unknown, RegExp]>([
    ['no name', { logo: LOGO }, /business_details\.name: /],
    ['an empty name', { name: '' }, /business_details\.name: /],
    ['a bad website', { name: 'Hub', website: 'not a url' }, /business_details\.website: /],
  ])('still refuses business details with %s (400 / 2001)', async (_what, details, names) => {
    const { operatorId, response } = await registerFromPeer(details);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      status_code: 2001,
      status_message: expect.stringMatching(names),
    });
    expect((await stored(operatorId)).status).toBe('UNREGISTERED');
  });

  it('registers ToIOP with a peer that answers our POST with an empty logo', async () => {
    const operatorId = await freshOperation();
    const answer = t.peer.credentials.bind(t.peer);
    t.peer.credentials = (token) => ({
      ...answer(token),
      business_details: { name: 'Hub', logo: NO_LOGO },
    });
    try {
      const response = await t.http
        .post(`/admin/operations/${operatorId}/register`)
        .set(t.admin)
        .send({
          versions_url: `${t.peer.baseUrl}/ocpi/emsp/versions`,
          token: t.peer.expectedToken,
        });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        status: 'REGISTERED',
        peer: { business_details: { name: 'Hub' } },
      });
      expect(response.body.peer.business_details).not.toHaveProperty('logo');
      expect((await lastHandshake(operatorId)).error).toMatch(/logo was left out/);
    } finally {
      t.peer.credentials = answer;
    }
  });
});
