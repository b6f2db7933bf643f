import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../src/common/free-port.js';
import { recordAuthorization, recordToken, recordTokensInText } from './secrets.js';

/** What the peer received, as it received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export type Fault =
  | 'none'
  /** The socket is destroyed once the request is read: no answer at all (connection reset). */
  | 'down'
  /** The URL of the route, as the peer hands it out, is a port nobody listens on. */
  | 'refused'
  /** No answer until the caller gives up (nothing happens on the peer's side). */
  | 'hang'
  | 'http500'
  | 'html'
  /** HTTP 200 with status_code 2000, whose message echoes the tokens it got, as some hubs do. */
  | 'status2000'
  | 'status3000'
  /** The answer comes after `slowMs`, and the request is then handled normally. */
  | 'slow'
  | 'truncated'
  | 'redirect-other-host'
  | 'redirect-same-host'
  | 'huge';

/** Where a fault applies: a route, or the credentials route for one method only. */
export type FaultTarget =
  | 'versions'
  | 'details'
  | 'credentials'
  | 'credentials.POST'
  | 'credentials.PUT'
  | 'credentials.DELETE';

/**
 * An OCPI 2.1.1 eMSP hub on 127.0.0.1 that answers like GIREVE's IOP in the seeds (versions,
 * version details with six modules, credentials), with faults to inject per route.
 */
export class FakePeer {
  readonly received: ReceivedRequest[] = [];
  /** The token the peer expects from us, i.e. the one it sent in its credentials. */
  expectedToken = 'peer-token-B-0001';
  versions: string[] = ['2.1.1'];
  withCredentialsEndpoint = true;
  /** Modules of the version details besides credentials. */
  modules = ['locations', 'tokens', 'commands', 'sessions', 'cdrs'];
  /** `credentials.PUT` (etc.) wins over `credentials` for that method. */
  faults: Partial<Record<FaultTarget, Fault>> = {};
  slowMs = 1_500;
  /** When set, the peer presents this token instead of ours when it calls us back. */
  callbackToken: string | undefined;
  /** What our service answered when this peer called it back during a POST/PUT we sent. */
  readonly callbacks: { request: string; status: number; statusCode?: number }[] = [];
  private issued = 0;
  private server!: Server;
  baseUrl = '';
  /** A loopback port that refuses connections, for the `refused` fault. */
  private closedPort = 0;

  /** Listens on `port` (0: any), e.g. the port it had before {@link stop}. */
  async start(port = 0): Promise<this> {
    this.closedPort ||= await freePort();
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  get port(): number {
    return (
      (this.server.address() as AddressInfo | null)?.port ?? Number(new URL(this.baseUrl).port)
    );
  }

  get versionsUrl(): string {
    return `${this.baseFor('versions')}/ocpi/emsp/versions`;
  }

  /**
   * The credentials URL is handed out before the method that will use it is known: a `refused`
   * fault on any method of it refuses them all.
   */
  private credentialsBase(): string {
    const targets = ['credentials', 'credentials.POST', 'credentials.PUT', 'credentials.DELETE'];
    return targets.some((target) => this.faults[target as FaultTarget] === 'refused')
      ? this.closedBase
      : this.baseUrl;
  }

  /** The base of the URL the peer hands out for a route: a closed port when it is to refuse. */
  private baseFor(target: FaultTarget): string {
    return this.faults[target] === 'refused' ? this.closedBase : this.baseUrl;
  }

  private get closedBase(): string {
    return `http://127.0.0.1:${this.closedPort}`;
  }

  /** The Credentials object the IOP POSTs in the seeds, pointing at this peer. */
  credentials(token = this.expectedToken): Record<string, unknown> {
    return {
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
      token,
      party_id: 'PID',
      country_code: 'FR',
      url: this.versionsUrl,
    };
  }

  reset(): void {
    this.received.length = 0;
    this.callbacks.length = 0;
    this.faults = {};
    this.callbackToken = undefined;
    this.versions = ['2.1.1'];
    this.withCredentialsEndpoint = true;
    this.modules = ['locations', 'tokens', 'commands', 'sessions', 'cdrs'];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const path = req.url ?? '';
    // For the secrets scan: the tokens this peer is shown, from in-process and child services.
    recordAuthorization(req.headers.authorization);
    recordTokensInText(raw);
    recordToken(this.expectedToken);
    this.received.push({
      method: req.method ?? '',
      path,
      authorization: req.headers.authorization,
      body: raw ? (JSON.parse(raw) as unknown) : undefined,
    });
    const route = path.endsWith('/versions')
      ? 'versions'
      : path.endsWith('/credentials')
        ? 'credentials'
        : 'details';
    const fault =
      (route === 'credentials'
        ? this.faults[`credentials.${req.method}` as FaultTarget]
        : undefined) ??
      this.faults[route] ??
      'none';
    if (fault === 'slow') await new Promise((r) => setTimeout(r, this.slowMs));
    if (fault === 'down') {
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') return; // the caller's abort closes the socket
    if (req.headers.authorization !== `Token ${this.expectedToken}`) {
      return send(res, 401, envelope(undefined, 2000, 'Unauthorized'));
    }
    switch (fault) {
      case 'http500':
        return send(res, 500, envelope(undefined, 3000, 'Internal error'));
      case 'html':
        res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end('<html><body>Maintenance</body></html>');
        return;
      case 'status2000': {
        const sent = raw ? (JSON.parse(raw) as { token?: string }).token : undefined;
        // Long enough that a 200-character cut would fall inside the token it quotes.
        const message = `Not a token we know${'.'.repeat(160)}: ${req.headers.authorization}`;
        return send(
          res,
          200,
          envelope(undefined, 2000, sent ? `${message}, nor ${sent}` : message),
        );
      }
      case 'status3000':
        return send(res, 200, envelope(undefined, 3000, 'Generic server error'));
      case 'truncated':
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end('{"data": [{"version": "2.1');
        return;
      case 'redirect-other-host':
        res.writeHead(302, { Location: `http://localhost:1${path}` }).end();
        return;
      case 'redirect-same-host':
        if (!path.startsWith('/moved')) {
          res.writeHead(302, { Location: `/moved${path}` }).end();
          return;
        }
        break;
      case 'huge':
        return send(res, 200, envelope('x'.repeat(2 * 1024 * 1024), 1000, 'Success'));
      case 'none':
      case 'slow':
      case 'refused':
        break;
    }
    if (route === 'versions') {
      return send(
        res,
        200,
        envelope(
          this.versions.map((version) => ({
            version,
            url: `${this.baseFor('details')}/ocpi/emsp/${version}`,
          })),
          1000,
          'Success',
        ),
      );
    }
    if (route === 'details') {
      const endpoints = [
        ...(this.withCredentialsEndpoint ? ['credentials'] : []),
        ...this.modules,
      ].map((identifier) => ({
        identifier,
        url: `${identifier === 'credentials' ? this.credentialsBase() : this.baseUrl}/ocpi/emsp/2.1.1/${identifier}`,
      }));
      return send(res, 200, envelope({ endpoints, version: '2.1.1' }, 1000, 'Success'));
    }
    if (req.method === 'POST' || req.method === 'PUT') return this.answerCredentials(raw, res);
    return send(res, 200, envelope({}, 1000, 'Success'));
  }

  /**
   * As a hub does when a party POSTs or PUTs its credentials: call its versions and version
   * details back with the token it sent, then answer with a new token of ours for it.
   */
  private async answerCredentials(raw: string, res: ServerResponse): Promise<void> {
    const theirs = JSON.parse(raw) as { url: string; token: string };
    const call = async (url: string) => {
      const token = this.callbackToken ?? theirs.token;
      try {
        const response = await fetch(url, { headers: { Authorization: `Token ${token}` } });
        const body = (await response.json()) as { status_code?: number; data?: unknown };
        this.callbacks.push({
          request: `GET ${url}`,
          status: response.status,
          statusCode: body.status_code,
        });
        return response.ok && body.status_code === 1000 ? body.data : undefined;
      } catch {
        // Unreachable (status 0): the party gave a URL nobody answers on.
        this.callbacks.push({ request: `GET ${url}`, status: 0 });
        return undefined;
      }
    };
    const versions = (await call(theirs.url)) as { version: string; url: string }[] | undefined;
    const v211 = versions?.find((v) => v.version === '2.1.1');
    const details = v211 && (await call(v211.url));
    if (!details) return send(res, 200, envelope(undefined, 3001, 'Unable to use the client API'));
    this.issued += 1;
    this.expectedToken = `iop-token-C-${this.issued}`;
    recordToken(this.expectedToken);
    return send(res, 200, envelope(this.credentials(this.expectedToken), 1000, 'Success'));
  }
}

function envelope(data: unknown, status_code: number, status_message: string) {
  return { data, status_code, status_message, timestamp: '2020-01-08T10:24:52Z' };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(body));
}
