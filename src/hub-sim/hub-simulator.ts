import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { messageOf } from '../common/errors.js';
import { freePort } from '../common/free-port.js';
import { EmspModules } from './emsp-modules.js';
import { call, envelope, exchange, json, parseObject, type Exchange } from './ocpi-wire.js';

/** What one OCPI route of the hub does instead of answering normally. */
export type EndpointFault =
  /** HTTP 500, OCPI status_code 3000. */
  | 'http500'
  /** HTTP 200 with JSON cut in the middle. */
  | 'bad_json'
  /** HTTP 200 with an HTML maintenance page. */
  | 'html'
  /** HTTP 200, status_code 2000, and a message quoting the tokens it got, as some hubs do. */
  | 'status_2000'
  | 'status_3000'
  /** The connection is dropped once the request is read: no answer at all. */
  | 'down'
  /** No answer, ever (until the caller gives up). */
  | 'hang'
  /** The URL the hub hands out for the route is a port nobody listens on. */
  | 'refused'
  /** 302 to the same path under /moved, which the hub serves normally. */
  | 'redirect_same_host'
  /** 302 to another host (localhost:1). */
  | 'redirect_other_host'
  /** An answer of 2 MiB. */
  | 'huge';

/** `modules`: every eMSP module the hub serves (locations, tokens…), as one target. */
export type Route = 'versions' | 'details' | 'credentials' | 'modules';
/** Where a fault or a delay applies: a route, or the credentials route for one method only. */
export type FaultTarget = Route | 'credentials_post' | 'credentials_put' | 'credentials_delete';

/**
 * Faults the simulator injects into its own OCPI endpoints (`PUT /sim/faults`). Per target, a
 * method of credentials (`credentials_put`) wins over `credentials`.
 */
export interface HubFaults extends Partial<Record<FaultTarget, EndpointFault>> {
  /** Drop every OCPI connection without answering. */
  down?: boolean;
  /**
   * Named eMSP modules down for a while: `{"locations": 30}` drops every call to locations for 30
   * seconds from when the faults are set, then serves it again (an IOP module's outage).
   */
  module_down?: Record<string, number>;
  /** Wait this long before answering any OCPI call, or per target: `{"credentials_put": 1500}`. */
  delay_ms?: number | Partial<Record<FaultTarget, number>>;
  /** Offer only OCPI 2.2 in versions. */
  no_2_1_1?: boolean;
  /** Leave credentials out of the version details. */
  no_credentials_endpoint?: boolean;
  /** Call a party back with this token instead of the one it sent (a failing call-back). */
  callback_token?: string;
  /**
   * How `status_2000` quotes the tokens it got: as is, in the Authorization header (by default),
   * or each token alone in this encoding.
   */
  echo?: TokenEncoding;
}

/** The encodings in which `status_2000` may quote tokens (`"echo"`). */
export const TOKEN_ENCODINGS = {
  base64: (token: string) => Buffer.from(token).toString('base64'),
  base64url: (token: string) => Buffer.from(token).toString('base64url'),
  hex: (token: string) => Buffer.from(token).toString('hex'),
  HEX: (token: string) => Buffer.from(token).toString('hex').toUpperCase(),
  percent: (token: string) => encodeURIComponent(token),
} satisfies Record<string, (token: string) => string>;
export type TokenEncoding = keyof typeof TOKEN_ENCODINGS;

/** Who the hub says it is in its credentials. */
export interface HubIdentity {
  country_code: string;
  party_id: string;
  business_details: Record<string, unknown>;
}

/** An OCPI request the hub received, as it received it (the body as text). */
export interface HubRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

/** A call a party made to one of the hub's modules, as `GET /sim/received` shows it. */
export interface ModuleRequest {
  at: string;
  method: string;
  /** With the query. */
  path: string;
  headers: Partial<Record<(typeof RECORDED_HEADERS)[number], string>>;
  /** Parsed when it is JSON, else the text; absent when empty. */
  body?: unknown;
  /** What the hub answered; absent when it did not (`down`, `hang`). */
  status?: number;
}

/** The headers of a module request that the hub records. */
const RECORDED_HEADERS = [
  'authorization',
  'x-request-id',
  'x-correlation-id',
  'content-type',
] as const;

/** The module requests the hub keeps for `GET /sim/received`, the newest. */
export const MAX_RECORDED_REQUESTS = 1_000;
/** The most pages `POST /sim/pull` follows. */
export const MAX_PULLED_PAGES = 100;

/** An endpoint of a party's version details. */
export interface Endpoint {
  identifier: string;
  url: string;
}

/** What a party answered when the hub called it back during its POST or PUT of credentials. */
export interface HubCallback {
  request: string;
  /** 0: not reached. */
  status: number;
  statusCode?: number;
}

export interface HubOptions {
  port?: number;
  host?: string;
  publicUrl?: string;
  identity?: HubIdentity;
}

/** A party (an operation of a CPO) connected to the simulated hub. */
export interface Party {
  versionsUrl: string;
  credentialsUrl?: string;
  /** The endpoints of its version details, as the hub last read them. */
  endpoints?: Endpoint[];
  /** The token the party presents to the hub. */
  tokenForParty: string;
  /** The token the hub presents to the party. */
  tokenForHub: string;
  registered: boolean;
  /**
   * A token of ours the hub no longer accepts (`PUT /sim/party-faults`, `refuse_token`): 401 to
   * every call with it, as when the hub dropped the connection on its side. A new registration
   * gives the party a new token, which works.
   */
  refusedToken?: string;
  /** Every call with the party's token is dropped unanswered (`down`), until cleared. */
  down?: boolean;
}

/** The modules of the version details besides credentials. */
export const HUB_MODULES = ['locations', 'tokens', 'commands', 'sessions', 'cdrs', 'tariffs'];

const GIREVE_LIKE: HubIdentity = {
  party_id: 'GIR',
  country_code: 'FR',
  business_details: { name: 'Hub simulator (GIREVE-like IOP)' },
};

/** The fault target of each method of credentials that has one of its own. */
const BY_METHOD = {
  POST: 'credentials_post',
  PUT: 'credentials_put',
  DELETE: 'credentials_delete',
} as const satisfies Record<string, FaultTarget>;

/** The paths it serves: any under /ocpi/emsp/ that ends like one of its routes (or under /moved). */
const OCPI_ROUTE =
  /^(?:\/moved)?\/ocpi\/emsp(?:\/[^/]+)*?\/(versions|2\.1\.1|2\.1\.1\/credentials)$/;

/** A module URL the hub hands out, with what follows it: `/ocpi/emsp/2.1.1/{module}/…`. */
const MODULE_ROUTE = /^(?:\/moved)?\/ocpi\/emsp\/2\.1\.1\/([a-z]+)(\/.*)?$/;

/**
 * An OCPI 2.1.1 hub that behaves like GIREVE's IOP for the credentials handshake, to rehearse all
 * five use cases without GIREVE:
 * - ToIOP: it issues tokens A (`POST /sim/tokens`); a party registers with POST, updates with PUT
 *   and unregisters with DELETE on its credentials endpoint; it calls the party back on POST/PUT.
 * - FromIOP: on `POST /sim/register`, `/sim/unregister` and `/sim/update` it registers with a
 *   party, unregisters (DELETE), or updates the GIREVE way (DELETE, then POST with the same token).
 * - As the eMSP side, it serves its modules (emsp-modules.ts) to registered parties and records
 *   what they send (`GET /sim/received`); `POST /sim/pull`, `/sim/send` and `/sim/command` call a
 *   party's own modules with the token it issued to the hub.
 * - `PUT /sim/faults` injects faults into its own endpoints, `PUT /sim/party-faults` for one
 *   party only (its token refused, or the hub down for it); `GET /sim/state` shows its parties.
 * The tests use it too (test/support/fake-peer.ts), through the hooks a subclass may override.
 */
export class HubSimulator {
  private server?: Server;
  /** Tokens A the hub issued and no party has registered with yet. */
  readonly tokensA = new Set<string>();
  readonly parties: Party[] = [];
  faults: HubFaults = {};
  /** The modules its version details list besides credentials. */
  modules = [...HUB_MODULES];
  /** What registered parties pushed to its modules, and the tokens it hands out. */
  readonly emsp = new EmspModules();
  /** The latest module requests, oldest first (`GET /sim/received`). */
  readonly moduleRequests: ModuleRequest[] = [];
  baseUrl = '';
  /** A loopback port that refuses connections, for the `refused` fault. */
  private closedPort = 0;
  /** Until when (epoch ms) each module is down, from the `module_down` fault. */
  private readonly moduleDownUntil = new Map<string, number>();

  constructor(private readonly options: HubOptions = {}) {}

  get versionsUrl(): string {
    return `${this.baseFor('versions')}/ocpi/emsp/versions`;
  }

  get port(): number {
    return (
      (this.server?.address() as AddressInfo | null)?.port ?? Number(new URL(this.baseUrl).port)
    );
  }

  /** Listens on `port` (by default the one of the options, or any), e.g. again after stop(). */
  async start(port = this.options.port ?? 0): Promise<this> {
    this.closedPort ||= await freePort();
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { error: messageOf(error) });
      });
    });
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    this.baseUrl =
      this.options.publicUrl ?? `http://${host}:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Stops at once: open connections are dropped, pending delays end. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Issues a token A for a party to register with (ToIOP). */
  issueTokenA(): string {
    const token = this.newToken();
    this.tokensA.add(token);
    return token;
  }

  /** The credentials the hub presents, with the token it gives a party. */
  credentials(token: string): Record<string, unknown> {
    const { country_code, party_id, business_details } = this.options.identity ?? GIREVE_LIKE;
    return { url: this.versionsUrl, token, party_id, country_code, business_details };
  }

  // --- hooks for a subclass (the tests') ------------------------------------------------------

  /** Makes every token the hub issues. */
  protected newToken(): string {
    return randomBytes(24).toString('base64url');
  }

  /** Sees every OCPI request the hub receives, before it is answered. */
  protected onRequest(_request: HubRequest): void {}

  /** Sees what a party answered to each call-back during its POST or PUT of credentials. */
  protected onCallback(_callback: HubCallback): void {}

  // ---------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://hub');
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    if (url.pathname.startsWith('/sim/'))
      return this.control(req.method ?? 'GET', url.pathname, parseObject(raw), res);
    this.onRequest({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      body: raw,
    });
    const module = MODULE_ROUTE.exec(url.pathname)?.[1];
    if (module && this.modules.includes(module)) return this.ocpi(req, res, 'modules', raw);
    const match = OCPI_ROUTE.exec(url.pathname)?.[1];
    if (!match) return json(res, 404, envelope(undefined, 2000, `No such path: ${url.pathname}`));
    const route = match === 'versions' ? 'versions' : match === '2.1.1' ? 'details' : 'credentials';
    return this.ocpi(req, res, route, raw);
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
      case 'POST /sim/tokens':
        return json(res, 201, { token: this.issueTokenA(), versions_url: this.versionsUrl });
      case 'PUT /sim/faults':
        this.faults = body;
        this.moduleDownUntil.clear();
        for (const [module, seconds] of Object.entries(this.faults.module_down ?? {})) {
          if (typeof seconds === 'number') this.takeModuleDown(module, seconds);
        }
        return json(res, 200, this.faults);
      case 'GET /sim/state':
        return json(res, 200, {
          parties: this.parties.map((p) => ({
            versions_url: p.versionsUrl,
            registered: p.registered,
            refusing_token: p.refusedToken !== undefined && p.refusedToken === p.tokenForParty,
            down: p.down === true,
            credentials_url: p.credentialsUrl ?? null,
            endpoints: p.endpoints ?? [],
          })),
        });
      case 'PUT /sim/party-faults': {
        // Faults of one party: the hub refuses the token it presents, or is down for it only.
        const party = this.parties.find((p) => p.versionsUrl === body.versions_url);
        if (!party)
          return json(res, 404, {
            error: `no party with versions_url ${String(body.versions_url)}`,
          });
        party.refusedToken = body.refuse_token === true ? party.tokenForParty : undefined;
        party.down = body.down === true;
        return json(res, 200, {
          versions_url: party.versionsUrl,
          refusing_token: party.refusedToken !== undefined,
          down: party.down,
        });
      }
      case 'GET /sim/received':
        return json(res, 200, { requests: this.moduleRequests });
      case 'DELETE /sim/received':
        this.moduleRequests.length = 0;
        return json(res, 200, { requests: [] });
      case 'POST /sim/pull':
      case 'POST /sim/send':
      case 'POST /sim/command': {
        const party = this.parties.find((p) => p.versionsUrl === body.versions_url);
        if (!party)
          return json(res, 404, {
            error: `no party with versions_url ${String(body.versions_url)}`,
          });
        const { command } = body;
        const isCommand = route === 'POST /sim/command';
        if (isCommand && (typeof command !== 'string' || !/^[A-Z_]+$/.test(command)))
          return json(res, 400, { error: 'command is required, e.g. START_SESSION' });
        const module = isCommand ? 'commands' : body.module;
        const endpoint = party.endpoints?.find((e) => e.identifier === module)?.url;
        if (!endpoint) {
          const listed = (party.endpoints ?? []).map((e) => e.identifier).join(', ') || 'none';
          return json(res, 404, {
            error: `the party lists no endpoint ${String(module)} (it lists: ${listed})`,
          });
        }
        if (route === 'POST /sim/pull')
          return json(res, 200, await this.pull(party.tokenForHub, endpoint, body.limit));
        if (route === 'POST /sim/send')
          return json(res, 200, await this.send(party.tokenForHub, endpoint, body));
        return json(
          res,
          200,
          await this.command(party.tokenForHub, endpoint, command as string, body.body),
        );
      }
      case 'POST /sim/register':
        if (typeof body.versions_url !== 'string' || typeof body.token !== 'string')
          return json(res, 400, { error: 'versions_url and token are required' });
        return json(res, 200, await this.registerWith(body.versions_url, body.token));
      case 'POST /sim/unregister':
      case 'POST /sim/update': {
        const party = this.parties.find((p) => p.versionsUrl === body.versions_url);
        if (!party)
          return json(res, 404, {
            error: `no party with versions_url ${String(body.versions_url)}`,
          });
        if (route === 'POST /sim/unregister')
          return json(res, 200, await this.unregisterFrom(party));
        // GIREVE never PUTs: it DELETEs, then registers again with the token it used for the DELETE.
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
    const endpoints = (details.body.data as { endpoints?: Endpoint[] } | undefined)?.endpoints;
    const credentialsUrl = endpoints?.find((e) => e.identifier === 'credentials')?.url;
    if (!credentialsUrl) return { ok: false, step: 'version_details', answer: details };
    // The party calls us back with this token while our POST is open: it must work already.
    const party = this.upsert(versionsUrl, {
      credentialsUrl,
      endpoints,
      tokenForParty: this.newToken(),
      registered: false,
    });
    const posted = await call(
      'POST',
      credentialsUrl,
      tokenA,
      this.credentials(party.tokenForParty),
    );
    const theirs = posted.body.data as { token?: string } | undefined;
    if (posted.status !== 200 || posted.body.status_code !== 1000 || !theirs?.token) {
      return { ok: false, step: 'credentials', answer: posted };
    }
    party.tokenForHub = theirs.token;
    party.registered = true;
    return { ok: true, credentials: theirs };
  }

  /**
   * GETs a module of a party page after page, following `Link: <…>; rel="next"`, on the origin
   * of the endpoint only: a Link elsewhere (an upstream's own address a gateway did not rewrite)
   * stops the pull, and the token does not go there.
   */
  private async pull(token: string, endpoint: string, limit: unknown) {
    const first = new URL(endpoint);
    if (typeof limit === 'number' || typeof limit === 'string')
      first.searchParams.set('limit', String(limit));
    const pages: Record<string, unknown>[] = [];
    let next: string | undefined = first.href;
    let totalCount: number | null = null;
    let ok = true;
    let itemsTotal = 0;
    let stopped: string | undefined;
    while (next && pages.length < MAX_PULLED_PAGES) {
      if (!URL.canParse(next) || new URL(next).origin !== first.origin) {
        stopped = `the next page is not on ${first.origin}: ${next}`;
        break;
      }
      const answer = await exchange('GET', next, token);
      const data = (answer.body as { data?: unknown } | undefined)?.data;
      const items = Array.isArray(data) ? data.length : null;
      const statusCode = (answer.body as { status_code?: unknown } | undefined)?.status_code;
      pages.push({
        url: next,
        status: answer.status,
        status_code: statusCode ?? null,
        items,
        ...(answer.error !== undefined && { error: answer.error }),
      });
      itemsTotal += items ?? 0;
      if (pages.length === 1 && answer.headers['x-total-count'] !== undefined)
        totalCount = Number(answer.headers['x-total-count']);
      if (answer.status !== 200 || statusCode !== 1000 || items === null) {
        ok = false;
        break;
      }
      const link = nextLink(answer.headers.link);
      next = link && URL.canParse(link, next) ? new URL(link, next).href : link;
    }
    if (ok && next) stopped ??= `stopped after ${MAX_PULLED_PAGES} pages`;
    return {
      ok: ok && !stopped,
      pages,
      items_total: itemsTotal,
      x_total_count: totalCount,
      ...(stopped && { stopped }),
    };
  }

  /** One call to a module of a party: `{module}{path}` with `method` and `body`. */
  private async send(token: string, endpoint: string, body: Record<string, unknown>) {
    const method = typeof body.method === 'string' ? body.method.toUpperCase() : 'GET';
    const path = typeof body.path === 'string' ? body.path : '';
    return reported(
      method,
      endpoint + path,
      await exchange(method, endpoint + path, token, body.body),
    );
  }

  /**
   * A command to a party (`POST {commands}/{COMMAND}`), whose result it is to POST to the hub's
   * own commands module, at the `response_url` the hub sets in the body.
   */
  private async command(token: string, endpoint: string, command: string, body: unknown) {
    const responseUrl = `${this.baseUrl}/ocpi/emsp/2.1.1/commands/${command}/${randomUUID()}`;
    const sent = { ...(typeof body === 'object' && body), response_url: responseUrl };
    const url = `${endpoint.replace(/\/$/, '')}/${command}`;
    return {
      ...reported('POST', url, await exchange('POST', url, token, sent)),
      response_url: responseUrl,
    };
  }

  private async unregisterFrom(party: Party): Promise<unknown> {
    if (!party.credentialsUrl) return { ok: false, error: 'no credentials endpoint known' };
    const deleted = await call('DELETE', party.credentialsUrl, party.tokenForHub);
    const ok = deleted.status === 200 && deleted.body.status_code === 1000;
    if (ok) party.registered = false;
    return { ok, answer: deleted };
  }

  // --- OCPI side --------------------------------------------------------------------------------

  /** Drops every call to `module` for `seconds` from now, then serves it again. */
  takeModuleDown(module: string, seconds: number): void {
    this.moduleDownUntil.set(module, Date.now() + seconds * 1000);
  }

  private moduleIsDown(req: IncomingMessage): boolean {
    const module = MODULE_ROUTE.exec(new URL(req.url ?? '/', 'http://hub').pathname)?.[1] ?? '';
    return (this.moduleDownUntil.get(module) ?? 0) > Date.now();
  }

  private async ocpi(req: IncomingMessage, res: ServerResponse, route: Route, raw: string) {
    const method = req.method ?? 'GET';
    if (route === 'modules') this.record(req, res, raw);
    const target: FaultTarget =
      (route === 'credentials' && BY_METHOD[method as keyof typeof BY_METHOD]) || route;
    const fault = this.faults[target] ?? this.faults[route];
    if (this.faults.down || fault === 'down' || (route === 'modules' && this.moduleIsDown(req))) {
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') return; // the caller's abort (or stop()) closes the socket
    const delay = this.delayFor(target);
    if (delay > 0 && !(await waitUnlessClosed(res, delay))) return;

    const presented = /^Token (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const party = presented ? this.parties.find((p) => p.tokenForParty === presented) : undefined;
    if (party?.down) {
      req.socket.destroy();
      return;
    }
    if (party && party.refusedToken === presented)
      return json(res, 401, envelope(undefined, 2000, 'Unauthorized'));
    // A token A opens the handshake only; the modules are for parties registered both ways.
    const allowed = route === 'modules' ? party?.registered : party || this.tokensA.has(presented);
    if (!allowed) return json(res, 401, envelope(undefined, 2000, 'Unauthorized'));

    switch (fault) {
      case 'http500':
        return json(res, 500, envelope(undefined, 3000, 'Internal error'));
      case 'bad_json':
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end('{"data": [{"version": "2.1');
        return;
      case 'html':
        res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end('<html><body>Maintenance</body></html>');
        return;
      case 'status_2000': {
        const sent = parseObject(raw).token;
        const { echo } = this.faults;
        if (echo && Object.hasOwn(TOKEN_ENCODINGS, echo)) {
          const quoted = [presented, sent]
            .filter((t): t is string => typeof t === 'string')
            .map(TOKEN_ENCODINGS[echo]);
          return json(
            res,
            200,
            envelope(undefined, 2000, `Unknown token ${quoted.join(', nor ')}`),
          );
        }
        // Long enough that a 200-character cut would fall inside the token it quotes.
        const message = `Not a token we know${'.'.repeat(160)}: ${req.headers.authorization}`;
        const quoted = typeof sent === 'string' ? `${message}, nor ${sent}` : message;
        return json(res, 200, envelope(undefined, 2000, quoted));
      }
      case 'status_3000':
        return json(res, 200, envelope(undefined, 3000, 'Generic server error'));
      case 'redirect_other_host':
        res.writeHead(302, { Location: `http://localhost:1${req.url ?? '/'}` }).end();
        return;
      case 'redirect_same_host':
        if (!req.url?.startsWith('/moved/')) {
          res.writeHead(302, { Location: `/moved${req.url ?? '/'}` }).end();
          return;
        }
        break;
      case 'huge':
        return json(res, 200, envelope('x'.repeat(2 * 1024 * 1024)));
      case 'refused':
      case undefined:
        break;
    }

    if (route === 'modules') return this.moduleEndpoint(req, res, party as Party, raw);
    if (route === 'versions') {
      const versions = this.faults.no_2_1_1 ? ['2.2'] : ['2.1.1'];
      return json(
        res,
        200,
        envelope(
          versions.map((version) => ({
            version,
            url: `${this.baseFor('details')}/ocpi/emsp/${version}`,
          })),
        ),
      );
    }
    if (route === 'details') {
      const modules = [
        ...(this.faults.no_credentials_endpoint ? [] : ['credentials']),
        ...this.modules,
      ];
      const endpoints = modules.map((identifier) => ({
        identifier,
        url: `${identifier === 'credentials' ? this.credentialsBase() : this.baseFor('modules')}/ocpi/emsp/2.1.1/${identifier}`,
      }));
      return json(res, 200, envelope({ endpoints, version: '2.1.1' }));
    }
    return this.credentialsEndpoint(method, presented, party, parseObject(raw), res);
  }

  /** The hub's credentials endpoint, as a party (ToIOP) uses it. */
  private async credentialsEndpoint(
    method: string,
    presented: string,
    party: Party | undefined,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): Promise<void> {
    if (method === 'GET') {
      return party
        ? json(res, 200, envelope(this.credentials(presented)))
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
    const token = this.faults.callback_token ?? theirs.token;
    const versions = await this.callBack(theirs.url, token);
    const v211 = (versions as { version: string; url: string }[] | undefined)?.find?.(
      (v) => v.version === '2.1.1',
    );
    const details = v211 && (await this.callBack(v211.url, token));
    const endpoints = (details as { endpoints?: Endpoint[] } | undefined)?.endpoints;
    const credentialsUrl = endpoints?.find?.((e) => e.identifier === 'credentials')?.url;
    if (!credentialsUrl)
      return json(res, 200, envelope(undefined, 3001, 'Unable to use the client API'));
    if (method === 'POST') this.tokensA.delete(presented);
    const values = {
      versionsUrl: theirs.url,
      credentialsUrl,
      endpoints,
      tokenForHub: theirs.token,
      tokenForParty: this.newToken(),
      registered: true,
    };
    const updated = party ? Object.assign(party, values) : this.upsert(theirs.url, values);
    return json(res, 200, envelope(this.credentials(updated.tokenForParty)));
  }

  /** One call of a party to a module of the hub (its token checked, faults applied). */
  private moduleEndpoint(req: IncomingMessage, res: ServerResponse, party: Party, raw: string) {
    // The URL as the party called it, so that the next page's Link leads back here.
    const base = new URL(this.baseUrl);
    const url = new URL(req.url ?? '/', `${base.protocol}//${req.headers.host ?? base.host}`);
    const [, module = '', rest = ''] = MODULE_ROUTE.exec(url.pathname) ?? [];
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return json(res, 400, envelope(undefined, 2001, 'The body is not JSON'));
    }
    const answer = this.emsp.answer(party, {
      method: req.method ?? 'GET',
      module,
      segments: rest.split('/').filter(Boolean),
      query: url.searchParams,
      body,
      url,
    });
    return json(res, answer.status, answer.body, answer.headers);
  }

  /** Keeps a module request for `GET /sim/received`, with the status it is answered. */
  private record(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const headers: ModuleRequest['headers'] = {};
    for (const name of RECORDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const request: ModuleRequest = {
      at: new Date().toISOString(),
      method: req.method ?? '',
      path: req.url ?? '',
      headers,
      ...(body !== undefined && { body }),
    };
    this.moduleRequests.push(request);
    if (this.moduleRequests.length > MAX_RECORDED_REQUESTS) this.moduleRequests.shift();
    res.once('finish', () => (request.status = res.statusCode));
  }

  /** One call-back to a party; its data when it answered 200 with status_code 1000. */
  private async callBack(url: string, token: string): Promise<unknown> {
    const answer = await call('GET', url, token);
    this.onCallback({
      request: `GET ${url}`,
      status: answer.status,
      ...(answer.status !== 0 && { statusCode: answer.body.status_code }),
    });
    return answer.status === 200 && answer.body.status_code === 1000 ? answer.body.data : undefined;
  }

  private delayFor(target: FaultTarget): number {
    const delay = this.faults.delay_ms;
    if (typeof delay === 'number') return delay;
    if (!delay) return 0;
    const route = target.startsWith('credentials') ? 'credentials' : target;
    return delay[target] ?? delay[route as Route] ?? 0;
  }

  /** The base of the URL the hub hands out for a route: a closed port when it is to refuse. */
  private baseFor(target: FaultTarget): string {
    return this.faults[target] === 'refused' ? this.closedBase : this.baseUrl;
  }

  /**
   * The credentials URL is handed out before the method that will use it is known: a `refused`
   * fault on any method of it refuses them all.
   */
  private credentialsBase(): string {
    const targets = ['credentials', 'credentials_post', 'credentials_put', 'credentials_delete'];
    return targets.some((target) => this.faults[target as FaultTarget] === 'refused')
      ? this.closedBase
      : this.baseUrl;
  }

  private get closedBase(): string {
    return `http://127.0.0.1:${this.closedPort}`;
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

/** Waits `ms`, or less if the caller hangs up (then false): no timer outlives its request. */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const closed = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', closed);
      resolve(true);
    }, ms);
    res.once('close', closed);
  });
}

/** The URL of `rel="next"` in a Link header, if any. */
function nextLink(link: string | undefined): string | undefined {
  return link && /<([^>]*)>\s*;\s*rel="?next"?/.exec(link)?.[1];
}

/** A call to a party as a control route answers it. */
function reported(method: string, url: string, answer: Exchange) {
  const statusCode = (answer.body as { status_code?: unknown } | undefined)?.status_code;
  return {
    ok: answer.status >= 200 && answer.status < 300 && statusCode === 1000,
    request: `${method} ${url}`,
    status: answer.status,
    body: answer.body,
    ...(answer.error !== undefined && { error: answer.error }),
  };
}
