import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  | 'http500'
  | 'html'
  | 'status3000'
  | 'slow'
  | 'truncated'
  | 'redirect-other-host'
  | 'redirect-same-host'
  | 'huge';

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
  faults: Partial<Record<'versions' | 'details' | 'credentials', Fault>> = {};
  slowMs = 1_500;
  /** What our service answered when this peer called it back during a POST/PUT we sent. */
  readonly callbacks: { request: string; status: number; statusCode?: number }[] = [];
  private issued = 0;
  private server!: Server;
  baseUrl = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  get versionsUrl(): string {
    return `${this.baseUrl}/ocpi/emsp/versions`;
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
    const fault = this.faults[route] ?? 'none';
    if (fault === 'slow') await new Promise((r) => setTimeout(r, this.slowMs));
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
        break;
    }
    if (route === 'versions') {
      return send(
        res,
        200,
        envelope(
          this.versions.map((version) => ({
            version,
            url: `${this.baseUrl}/ocpi/emsp/${version}`,
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
      ].map((identifier) => ({ identifier, url: `${this.baseUrl}/ocpi/emsp/2.1.1/${identifier}` }));
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
      const response = await fetch(url, { headers: { Authorization: `Token ${theirs.token}` } });
      const body = (await response.json()) as { status_code?: number; data?: unknown };
      this.callbacks.push({
        request: `GET ${url}`,
        status: response.status,
        statusCode: body.status_code,
      });
      return response.ok && body.status_code === 1000 ? body.data : undefined;
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
