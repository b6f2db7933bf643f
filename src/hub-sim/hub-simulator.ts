import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Faults the simulator can inject into its own OCPI endpoints. */
export interface HubFaults {
  /** Drop every OCPI connection without answering. */
  down?: boolean;
  /** Wait this long before answering any OCPI call. */
  delay_ms?: number;
  versions?: EndpointFault;
  details?: EndpointFault;
  credentials?: EndpointFault;
  /** Offer only OCPI 2.2 in versions. */
  no_2_1_1?: boolean;
  /** Leave credentials out of the version details. */
  no_credentials_endpoint?: boolean;
}
export type EndpointFault = 'http500' | 'bad_json' | 'status_3000';

/** A party (an operation of a CPO) connected to the simulated hub. */
interface Party {
  versionsUrl: string;
  credentialsUrl?: string;
  /** The token the party presents to the hub. */
  tokenForParty: string;
  /** The token the hub presents to the party. */
  tokenForHub: string;
  registered: boolean;
}

type Envelope = { data?: unknown; status_code: number; status_message?: string; timestamp: string };

const MODULES = ['credentials', 'locations', 'tokens', 'commands', 'sessions', 'cdrs'];

/**
 * An OCPI 2.1.1 hub that behaves like GIREVE's IOP for the credentials handshake, to rehearse all
 * five use cases without GIREVE:
 * - ToIOP: it issues tokens A (`POST /sim/tokens`); a party registers with POST, updates with PUT
 *   and unregisters with DELETE on its credentials endpoint; it calls the party back on POST/PUT.
 * - FromIOP: on `POST /sim/register`, `/sim/unregister` and `/sim/update` it registers with a
 *   party, unregisters (DELETE), or updates the GIREVE way (DELETE, then POST with the same token).
 * - `PUT /sim/faults` injects faults into its own endpoints; `GET /sim/state` shows its parties.
 */
export class HubSimulator {
  private server?: Server;
  private readonly tokensA = new Set<string>();
  private readonly parties: Party[] = [];
  faults: HubFaults = {};
  baseUrl = '';

  constructor(
    private readonly options: { port?: number; host?: string; publicUrl?: string } = {},
  ) {}

  get versionsUrl(): string {
    return `${this.baseUrl}/ocpi/emsp/versions`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent)
          json(res, 500, { error: error instanceof Error ? error.message : String(error) });
      });
    });
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => server.listen(this.options.port ?? 0, host, resolve));
    const { port } = server.address() as AddressInfo;
    this.baseUrl = this.options.publicUrl ?? `http://${host}:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://hub');
    const body = await readJson(req);
    if (url.pathname.startsWith('/sim/'))
      return this.control(req.method ?? 'GET', url.pathname, body, res);
    if (url.pathname.startsWith('/ocpi/emsp/')) return this.ocpi(req, url.pathname, body, res);
    json(res, 404, { error: 'not found' });
  }

  // --- control routes ---------------------------------------------------------------------------

  private async control(
    method: string,
    path: string,
    body: Record<string, unknown>,
    res: ServerResponse,
  ) {
    const route = `${method} ${path}`;
    switch (route) {
      case 'POST /sim/tokens': {
        const token = newToken();
        this.tokensA.add(token);
        return json(res, 201, { token, versions_url: this.versionsUrl });
      }
      case 'PUT /sim/faults':
        this.faults = body;
        return json(res, 200, this.faults);
      case 'GET /sim/state':
        return json(res, 200, {
          parties: this.parties.map((p) => ({
            versions_url: p.versionsUrl,
            registered: p.registered,
            credentials_url: p.credentialsUrl ?? null,
          })),
        });
      case 'POST /sim/register':
        return json(
          res,
          200,
          await this.registerWith(String(body.versions_url), String(body.token)),
        );
      case 'POST /sim/unregister':
        return json(res, 200, await this.unregisterFrom(this.party(String(body.versions_url))));
      case 'POST /sim/update': {
        // GIREVE never PUTs: it DELETEs, then registers again with the token it used for the DELETE.
        const party = this.party(String(body.versions_url));
        const token = party.tokenForHub;
        const deleted = await this.unregisterFrom(party);
        const registered = await this.registerWith(party.versionsUrl, token);
        return json(res, 200, { deleted, registered });
      }
      default:
        return json(res, 404, { error: `no control route ${route}` });
    }
  }

  /** Register FromIOP: discover the party, then POST our credentials with its token A. */
  private async registerWith(versionsUrl: string, tokenA: string): Promise<unknown> {
    const versions = await call('GET', versionsUrl, tokenA);
    const v211 = (versions.body.data as { version: string; url: string }[] | undefined)?.find(
      (v) => v.version === '2.1.1',
    );
    if (!v211) return { ok: false, step: 'versions', answer: versions };
    const details = await call('GET', v211.url, tokenA);
    const endpoints = (details.body.data as { endpoints?: { identifier: string; url: string }[] })
      ?.endpoints;
    const credentialsUrl = endpoints?.find((e) => e.identifier === 'credentials')?.url;
    if (!credentialsUrl) return { ok: false, step: 'version_details', answer: details };
    // The party calls us back with this token while our POST is open: it must work already.
    const party = this.upsert(versionsUrl, {
      credentialsUrl,
      tokenForParty: newToken(),
      registered: false,
    });
    const posted = await call(
      'POST',
      credentialsUrl,
      tokenA,
      this.ourCredentials(party.tokenForParty),
    );
    const theirs = posted.body.data as { token?: string } | undefined;
    if (posted.status !== 200 || posted.body.status_code !== 1000 || !theirs?.token) {
      return { ok: false, step: 'credentials', answer: posted };
    }
    party.tokenForHub = theirs.token;
    party.registered = true;
    return { ok: true, credentials: theirs };
  }

  private async unregisterFrom(party: Party): Promise<unknown> {
    if (!party.credentialsUrl) return { ok: false, error: 'no credentials endpoint known' };
    const deleted = await call('DELETE', party.credentialsUrl, party.tokenForHub);
    const ok = deleted.status === 200 && deleted.body.status_code === 1000;
    if (ok) party.registered = false;
    return { ok, answer: deleted };
  }

  // --- OCPI side --------------------------------------------------------------------------------

  private async ocpi(
    req: IncomingMessage,
    path: string,
    body: Record<string, unknown>,
    res: ServerResponse,
  ) {
    if (this.faults.down) {
      res.socket?.destroy();
      return;
    }
    if (this.faults.delay_ms) await new Promise((r) => setTimeout(r, this.faults.delay_ms));
    const route = path.endsWith('/versions')
      ? 'versions'
      : path.endsWith('/credentials')
        ? 'credentials'
        : 'details';
    const fault = this.faults[route];
    if (fault === 'http500') return json(res, 500, envelope(undefined, 3000, 'Internal error'));
    if (fault === 'bad_json') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"data": [');
      return;
    }
    if (fault === 'status_3000')
      return json(res, 200, envelope(undefined, 3000, 'Generic server error'));

    const presented = /^Token (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const party = this.parties.find((p) => p.tokenForParty === presented);
    const isTokenA = this.tokensA.has(presented);
    if (!party && !isTokenA) return json(res, 401, envelope(undefined, 2000, 'Unauthorized'));

    if (route === 'versions') {
      const versions = this.faults.no_2_1_1 ? ['2.2'] : ['2.1.1'];
      return json(
        res,
        200,
        envelope(
          versions.map((version) => ({ version, url: `${this.baseUrl}/ocpi/emsp/${version}` })),
        ),
      );
    }
    if (route === 'details') {
      const modules = MODULES.filter(
        (m) => !(m === 'credentials' && this.faults.no_credentials_endpoint),
      );
      const endpoints = modules.map((identifier) => ({
        identifier,
        url: `${this.baseUrl}/ocpi/emsp/2.1.1/${identifier}`,
      }));
      return json(res, 200, envelope({ endpoints, version: '2.1.1' }));
    }
    return this.credentials(req.method ?? 'GET', presented, party, body, res);
  }

  /** The hub's credentials endpoint, as a party (ToIOP) uses it. */
  private async credentials(
    method: string,
    presented: string,
    party: Party | undefined,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): Promise<void> {
    if (method === 'GET') {
      return party
        ? json(res, 200, envelope(this.ourCredentials(presented)))
        : json(res, 401, envelope(undefined, 2000, 'Unauthorized'));
    }
    if (method === 'DELETE') {
      if (!party?.registered) return json(res, 405, envelope(undefined, 2000, 'Not registered'));
      party.registered = false;
      return json(res, 200, envelope({}));
    }
    if (method !== 'POST' && method !== 'PUT')
      return json(res, 405, envelope(undefined, 2000, 'Method not allowed'));
    if (method === 'POST' && party?.registered)
      return json(res, 405, envelope(undefined, 2000, 'Already registered'));
    if (method === 'PUT' && !party?.registered)
      return json(res, 405, envelope(undefined, 2000, 'Not registered'));
    const theirs = body as { token?: unknown; url?: unknown };
    if (typeof theirs.token !== 'string' || typeof theirs.url !== 'string') {
      return json(res, 400, envelope(undefined, 2001, 'Invalid or missing parameters'));
    }
    // Call the party back with the token it just sent, as the IOP does, before answering.
    const versions = await call('GET', theirs.url, theirs.token);
    const v211 = (versions.body.data as { version: string; url: string }[] | undefined)?.find(
      (v) => v.version === '2.1.1',
    );
    const details = v211 && (await call('GET', v211.url, theirs.token));
    const endpoints = (
      details?.body.data as { endpoints?: { identifier: string; url: string }[] } | undefined
    )?.endpoints;
    const credentialsUrl = endpoints?.find((e) => e.identifier === 'credentials')?.url;
    if (!credentialsUrl)
      return json(res, 200, envelope(undefined, 3001, 'Unable to use the client API'));
    if (method === 'POST') this.tokensA.delete(presented);
    const updated = this.upsert(theirs.url, {
      credentialsUrl,
      tokenForHub: theirs.token,
      tokenForParty: newToken(),
      registered: true,
    });
    return json(res, 200, envelope(this.ourCredentials(updated.tokenForParty)));
  }

  private ourCredentials(token: string) {
    return {
      url: this.versionsUrl,
      token,
      party_id: 'GIR',
      country_code: 'FR',
      business_details: { name: 'Hub simulator (GIREVE-like IOP)' },
    };
  }

  private party(versionsUrl: string): Party {
    const party = this.parties.find((p) => p.versionsUrl === versionsUrl);
    if (!party) throw new Error(`no party with versions_url ${versionsUrl}`);
    return party;
  }

  private upsert(versionsUrl: string, values: Partial<Party>): Party {
    let party = this.parties.find((p) => p.versionsUrl === versionsUrl);
    if (!party) {
      party = { versionsUrl, tokenForParty: '', tokenForHub: '', registered: false };
      this.parties.push(party);
    }
    return Object.assign(party, values);
  }
}

function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function envelope(data?: unknown, status_code = 1000, status_message = 'Success'): Envelope {
  return {
    data,
    status_code,
    status_message,
    timestamp: `${new Date().toISOString().slice(0, 19)}Z`,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  if (!raw) return {};
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** One OCPI call of the hub to a party; failures come back as data for the control route. */
async function call(
  method: string,
  url: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Partial<Envelope> }> {
  try {
    const response = await fetch(url, {
      method,
      headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as Partial<Envelope> };
    } catch {
      return { status: response.status, body: {} };
    }
  } catch (error) {
    return {
      status: 0,
      body: { status_message: error instanceof Error ? error.message : String(error) },
    };
  }
}
