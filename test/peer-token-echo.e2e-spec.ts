import { readFileSync } from 'node:fs';
import { TOKEN_ENCODINGS, type TokenEncoding } from '../src/hub-sim/hub-simulator.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { useHarness } from './support/harness.js';

/**
 * DESIGN section 11: a token in anything a peer sends back is masked, as is and encoded. A peer
 * that fails a call with a message quoting the tokens it got (the one we present, and ours in the
 * credentials we send), in Base64, Base64url, hex (either case) or percent-encoded, must not get
 * them into the admin's 502, the peer's 3001, the connection's last_error, the handshakes table
 * or the log. Tokens with characters that percent-encoding changes, so that every encoding
 * differs from the token itself.
 */

/** Every form of a token that must not be written anywhere. */
function encodings(token: string): string[] {
  const base64 = Buffer.from(token).toString('base64');
  return [
    token,
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(token).toString('base64url'),
    Buffer.from(token).toString('hex'),
    Buffer.from(token).toString('hex').toUpperCase(),
    encodeURIComponent(token),
  ];
}

/** How the peer quotes the tokens: as is (the Authorization header), or each one encoded. */
const ECHOES: [string, TokenEncoding | undefined][] = [
  ['as is', undefined],
  ...(Object.keys(TOKEN_ENCODINGS) as TokenEncoding[]).map((e): [string, TokenEncoding] => [e, e]),
];

describe('A peer that echoes our tokens, encoded, in its failure', () => {
  const t = useHarness({ reachable: true, peer: true });
  const { db, peer } = t;
  let logFile: string | undefined;

  beforeAll(async () => {
    await createOperation(t, 'FR*EC1');
    await createOperation(t, 'FR*EC2');
    logFile = (t.config.logDestination as { file?: string } | undefined)?.file;
  });
  beforeEach(() => peer.reset());

  /** The places a peer's words are kept or shown, besides the answer itself. */
  async function kept(operation: string): Promise<string> {
    const rows = await db.query(
      `SELECT row_to_json(h)::text AS row FROM handshakes h
       JOIN operations o ON o.id = h.operation_id WHERE o.party_id = $1`,
      [operation],
    );
    const connection = await db.query(
      `SELECT c.last_error FROM connections c JOIN operations o ON o.id = c.operation_id
       WHERE o.party_id = $1`,
      [operation],
    );
    const log = logFile ? readFileSync(logFile, 'utf8') : '';
    return JSON.stringify(rows) + JSON.stringify(connection) + log;
  }

  function expectNoToken(where: string, tokens: string[]) {
    for (const token of tokens) {
      for (const form of encodings(token)) expect(where).not.toContain(form);
    }
  }

  it.each(ECHOES)(
    'ToIOP register: a POST answered with the tokens echoed (%s) gives a 502 without them',
    async (_how, echo) => {
      const presented = `iop/token+A=${echo ?? 'raw'}?&#`;
      peer.expectedToken = presented;
      peer.faults = { credentials_post: 'status_2000', ...(echo && { echo }) };
      const response = await t.http
        .post('/admin/operations/FR*EC1/register')
        .set(t.admin)
        .send({ versions_url: peer.versionsUrl, token: presented })
        .expect(502);
      const sent = (peer.received.find((r) => r.method === 'POST')?.body as { token: string })
        .token;
      expect(sent).toEqual(expect.any(String));
      expect(response.body).toEqual({
        status: 502,
        step: 'credentials',
        status_code: 2000,
        error: expect.stringMatching(
          echo
            ? /answered status_code 2000 \(Unknown token \[token\], nor \[token\]\)$/
            : /answered status_code 2000 \(Not a token we know\.+: Token \[token\], nor \[token\]\)$/,
        ),
      });
      expectNoToken(JSON.stringify(response.body), [presented, sent]);
      expectNoToken(await kept('EC1'), [presented, sent]);
    },
  );

  it.each(ECHOES)(
    'ToIOP register: versions answered with the token echoed (%s): none in the 502',
    async (_how, echo) => {
      const presented = `iop/token+A=v-${echo ?? 'raw'}?&#`;
      peer.expectedToken = presented;
      peer.faults = { versions: 'status_2000', ...(echo && { echo }) };
      const response = await t.http
        .post('/admin/operations/FR*EC1/register')
        .set(t.admin)
        .send({ versions_url: peer.versionsUrl, token: presented })
        .expect(502);
      expect(response.body.error).toMatch(/\[token\]\)$/);
      expectNoToken(JSON.stringify(response.body), [presented]);
      expectNoToken(await kept('EC1'), [presented]);
    },
  );

  it.each(ECHOES)(
    'FromIOP POST: the call-back answered with the token echoed (%s): none in the 3001',
    async (_how, echo) => {
      const tokenA = await mintTokenA(t, 'FR*EC2');
      const theirs = `peer/token+B=${echo ?? 'raw'}?&#`;
      peer.expectedToken = theirs;
      peer.faults = { versions: 'status_2000', ...(echo && { echo }) };
      const response = await t.http
        .post('/ocpi/FR/EC2/2.1.1/credentials')
        .set(tokenHeader(tokenA))
        .send(peer.credentials())
        .expect(200);
      expect(response.body).toMatchObject({
        status_code: 3001,
        status_message: expect.stringMatching(/\[token\]\)$/),
      });
      expectNoToken(JSON.stringify(response.body), [theirs]);
      expectNoToken(await kept('EC2'), [theirs]);
    },
  );

  it('read the log the app writes, where the failures are, masked', () => {
    expect(logFile).toEqual(expect.any(String));
    expect(readFileSync(logFile!, 'utf8')).toMatch(/REGISTER of operation \S+ failed: .*\[token\]/);
  });
});
