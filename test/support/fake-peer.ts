import {
  HUB_MODULES,
  HubSimulator,
  type HubCallback,
  type HubRequest,
} from '../../src/hub-sim/hub-simulator.js';
import { recordAuthorization, recordToken, recordTokensInText } from './secrets.js';

/** What the peer received, as it received it (the body parsed when it is JSON). */
export interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/**
 * The hub simulator (src/hub-sim) as one peer that answers like GIREVE's IOP in the seeds, seen
 * the way the tests want it: one token it expects from us at a time ({@link expectedToken}),
 * what it received and what its call-backs got, and the tokens it sees recorded for the secrets
 * scan. Its faults are the simulator's (`peer.faults.versions = 'http500'`). Its tokens are
 * predictable: `iop-token-C-1`, `-2`… in the order it issues them.
 */
export class FakePeer extends HubSimulator {
  readonly received: ReceivedRequest[] = [];
  /** What our service answered when this peer called it back during a POST/PUT we sent. */
  readonly callbacks: HubCallback[] = [];
  private issued = 0;

  constructor() {
    super({
      identity: {
        business_details: {
          logo: {
            category: 'NETWORK',
            height: 44,
            thumbnail: 'http://xxx.xxx.com/yyyy.png',
            width: 92,
            type: 'png',
            url: 'http://xxx.xxx.com/logo.png',
          },
          website: 'http://xxx.com',
          name: 'NAME',
        },
        party_id: 'PID',
        country_code: 'FR',
      },
    });
    this.expectedToken = 'peer-token-B-0001';
  }

  /**
   * The token the peer expects from us: the one it issued to its one party once there is one
   * (the token it sent in its credentials), until then a token A it accepts.
   */
  get expectedToken(): string {
    return this.parties.at(-1)?.tokenForParty ?? [...this.tokensA][0] ?? '';
  }

  set expectedToken(token: string) {
    recordToken(token);
    const party = this.parties.at(-1);
    if (party) {
      party.tokenForParty = token;
    } else {
      this.tokensA.clear();
      this.tokensA.add(token);
    }
  }

  /** The Credentials object the IOP POSTs in the seeds, pointing at this peer. */
  override credentials(token = this.expectedToken): Record<string, unknown> {
    return super.credentials(token);
  }

  /** Forgets what it received and its faults; keeps its tokens and parties. */
  reset(): void {
    this.received.length = 0;
    this.callbacks.length = 0;
    this.faults = {};
    this.modules = [...HUB_MODULES];
  }

  protected override newToken(): string {
    this.issued += 1;
    const token = `iop-token-C-${this.issued}`;
    recordToken(token);
    return token;
  }

  protected override onRequest(request: HubRequest): void {
    // For the secrets scan: the tokens this peer is shown, from in-process and child services.
    recordAuthorization(request.authorization);
    recordTokensInText(request.body);
    let body: unknown;
    try {
      body = request.body ? JSON.parse(request.body) : undefined;
    } catch {
      body = request.body;
    }
    this.received.push({ ...request, body });
  }

  protected override onCallback(callback: HubCallback): void {
    this.callbacks.push(callback);
  }
}
