import type { IncomingMessage, ServerResponse } from 'node:http';
import { SecretBox } from '../../src/common/crypto/secret-box.js';
import { LoopbackServer } from './loopback-server.js';
import { recordToken } from './secrets.js';
import type { TestDatabase } from './test-database.js';

/** A probe the peer received: which connection (its path), with what token, when. */
export interface ReceivedProbe {
  connection: string;
  authorization: string | undefined;
  at: number;
}

/** The token peer n accepts: the token we present to it. */
export const peerToken = (n: number | string) => `health-probe-peer-token-${n}`;

/**
 * Many peers in one server, for the connection health tests: `/peer/{n}/versions` is the
 * versions URL of peer n, answering 200 with status_code 1000 to its token ({@link peerToken}), 401 to
 * any other. It counts what each peer received; `hold` keeps the answers back (the caller waits)
 * until it is set false or the caller hangs up.
 */
export class ProbePeer extends LoopbackServer {
  readonly received: ReceivedProbe[] = [];
  private held: { res: ServerResponse; peer: string | undefined }[] = [];
  private holding = false;

  get hold(): boolean {
    return this.holding;
  }

  set hold(on: boolean) {
    this.holding = on;
    if (!on) for (const { res, peer } of this.held.splice(0)) this.answer(res, peer);
  }

  versionsUrl(n: number): string {
    return `${this.baseUrl}/peer/${n}/versions`;
  }

  /** The probes connection n received. */
  of(n: number): ReceivedProbe[] {
    return this.received.filter((r) => r.connection === String(n));
  }

  protected override handle(req: IncomingMessage, res: ServerResponse): void {
    const n = /^\/peer\/(\d+)\/versions$/.exec(req.url ?? '')?.[1];
    if (!n) {
      res.writeHead(404).end();
      return;
    }
    this.received.push({ connection: n, authorization: req.headers.authorization, at: Date.now() });
    // Peer n, or undefined when the token is not its own.
    const peer = req.headers.authorization === `Token ${peerToken(n)}` ? n : undefined;
    if (this.holding) this.held.push({ res, peer });
    else this.answer(res, peer);
  }

  private answer(res: ServerResponse, peer: string | undefined): void {
    if (res.writableEnded || res.destroyed) return;
    const refused = peer === undefined;
    const body = refused
      ? { status_code: 2000, status_message: 'Unauthorized', timestamp: new Date().toISOString() }
      : {
          status_code: 1000,
          data: [{ version: '2.1.1', url: `${this.baseUrl}/peer/${peer}/2.1.1` }],
          timestamp: new Date().toISOString(),
        };
    res
      .writeHead(refused ? 401 : 200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify(body));
  }
}

/**
 * Operations FR*P00… with connections REGISTERED to `peer`'s peers 0…count-1 (their token
 * sealed with `encryptionKey`, and recorded for the secrets scan), written in SQL as a running service would have
 * stored them; first probe due at once, as after a registration. Returns their ids by n.
 */
export async function seedRegisteredConnections(
  db: TestDatabase,
  peer: ProbePeer,
  encryptionKey: Buffer,
  count: number,
): Promise<string[]> {
  const box = new SecretBox(encryptionKey);
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    recordToken(peerToken(n));
    const partyId = `P${n.toString(36).toUpperCase().padStart(2, '0')}`;
    const [{ id }] = await db.query<{ id: string }>(
      `INSERT INTO operations (country_code, party_id, business_details)
       VALUES ('FR', $1, '{"name": "Seeded"}') RETURNING id`,
      [partyId],
    );
    await db.query(
      `INSERT INTO connections (operation_id, status, initiated_by, version, peer_versions_url,
         peer_country_code, peer_party_id, peer_token_encrypted, registered_at, probe_due_at)
       VALUES ($1, 'REGISTERED', 'US', '2.1.1', $2, 'FR', 'GIR', $3, now(), '-infinity')`,
      [id, peer.versionsUrl(n), box.seal(peerToken(n), id)],
    );
    ids.push(id);
  }
  return ids;
}
