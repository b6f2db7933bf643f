// The eMSP modules of the hub simulator: what an OCPI 2.1.1 eMSP (GIREVE's IOP, for a CPO) does
// with the calls a CPO makes to it, in memory, per party.
import { envelope, ocpiNow, type Envelope } from './ocpi-wire.js';

type Json = Record<string, unknown>;

/** One call to a module, as the simulator routed it. */
export interface ModuleCall {
  method: string;
  module: string;
  /** The path after the module's URL, split on `/`, empty segments left out. */
  segments: string[];
  query: URLSearchParams;
  /** The body parsed; undefined when there was none. */
  body: unknown;
  /** The URL the call came to, to build the `Link` of the next page on. */
  url: URL;
}

export interface ModuleAnswer {
  status: number;
  body: Envelope;
  headers?: Record<string, string>;
}

/** Objects a party may store, all modules together; the oldest goes first. */
export const MAX_STORED_OBJECTS = 10_000;
/** The tokens the eMSP hands out in `GET /tokens`. */
export const TOKEN_COUNT = 25;
/** The most tokens of one page, and the page size when the caller gives none (`X-Limit`). */
export const TOKENS_PAGE_LIMIT = 10;

/** The levels under a location: `/{evse_uid}/{connector_id}`. */
const LOCATION_LEVELS = [
  { list: 'evses', id: 'uid' },
  { list: 'connectors', id: 'id' },
] as const;

const ok = (data?: unknown, headers?: Record<string, string>): ModuleAnswer => ({
  status: 200,
  body: envelope(data),
  headers,
});
const fail = (status: number, code: number, message: string): ModuleAnswer => ({
  status,
  body: envelope(undefined, code, message),
});
const invalid = (message = 'Invalid or missing parameters') => fail(400, 2001, message);
const methodNotAllowed = () => fail(405, 2000, 'Method not allowed');

/**
 * The eMSP side of locations, sessions, tariffs, cdrs, commands (results) and tokens. What a
 * party pushes is kept per party (any object as the key), bounded; the tokens are the same
 * generated ones for every party.
 */
export class EmspModules {
  private readonly stores = new WeakMap<object, Map<string, Json>>();
  readonly tokens: Json[] = Array.from({ length: TOKEN_COUNT }, (_, i) => {
    const n = String(i + 1).padStart(4, '0');
    return {
      uid: `HUBSIM${n}`,
      type: 'RFID',
      auth_id: `FR-GIR-C${n}`,
      visual_number: `GIR ${n}`,
      issuer: 'Hub simulator',
      valid: true,
      whitelist: 'ALLOWED',
      last_updated: '2026-01-01T00:00:00Z',
    };
  });

  answer(party: object, call: ModuleCall): ModuleAnswer {
    const store = this.storeOf(party);
    const { method, segments, body } = call;
    switch (call.module) {
      case 'locations':
        return this.object(store, method, 'locations', segments, body, LOCATION_LEVELS.length);
      case 'sessions':
      case 'tariffs':
        return this.object(store, method, call.module, segments, body, 0);
      case 'cdrs':
        return this.cdrs(store, call);
      case 'commands':
        return this.commandResult(store, method, segments, body);
      case 'tokens':
        return this.tokensSender(call);
      default:
        return fail(404, 2000, `No module ${call.module}`);
    }
  }

  private storeOf(party: object): Map<string, Json> {
    let store = this.stores.get(party);
    if (!store) this.stores.set(party, (store = new Map<string, Json>()));
    return store;
  }

  /**
   * `/{country_code}/{party_id}/{id}`, and for locations `/{evse_uid}/{connector_id}` below it:
   * GET, PUT (replace), PATCH (merge), and DELETE for tariffs.
   */
  private object(
    store: Map<string, Json>,
    method: string,
    module: string,
    segments: string[],
    body: unknown,
    depth: number,
  ): ModuleAnswer {
    const [cc, pid, id, ...below] = segments;
    if (!cc || !pid || !id || below.length > depth)
      return fail(404, 2000, `Expected /${module}/{country_code}/{party_id}/{id}`);
    const key = `${module}/${cc}/${pid}/${id}`;
    const unknown =
      module === 'locations'
        ? fail(404, 2003, 'Unknown location')
        : fail(404, 2000, `Unknown ${module.slice(0, -1)}`);

    // Walk down to the object the path names, keeping how to replace it in its parent.
    let target: Json | undefined = store.get(key);
    let put = (value: Json): void => remember(store, key, value);
    let remove = (): unknown => store.delete(key);
    for (const [level, childId] of below.entries()) {
      const parent = target;
      if (!parent) return unknown;
      const { list, id: idField } = LOCATION_LEVELS[level];
      const children = Array.isArray(parent[list]) ? (parent[list] as Json[]) : [];
      const index = children.findIndex((child) => child[idField] === childId);
      target = children[index];
      put = (value) => {
        if (index >= 0) children[index] = value;
        else children.push(value);
        parent[list] = children;
      };
      remove = () => children.splice(index, 1);
    }

    switch (method) {
      case 'GET':
        return target ? ok(target) : unknown;
      case 'PUT':
        if (!isObject(body)) return invalid();
        put(body);
        return ok();
      case 'PATCH':
        if (!isObject(body)) return invalid();
        if (!target) return unknown;
        Object.assign(target, body);
        return ok();
      case 'DELETE':
        if (module !== 'tariffs') return methodNotAllowed();
        if (!target) return unknown;
        remove();
        return ok();
      default:
        return methodNotAllowed();
    }
  }

  /** `POST /cdrs` keeps a CDR by its id; `GET /cdrs/{id}` gives it back. */
  private cdrs(store: Map<string, Json>, { method, segments, body, url }: ModuleCall) {
    if (method === 'POST' && segments.length === 0) {
      if (!isObject(body) || typeof body.id !== 'string') return invalid('A CDR needs an id');
      remember(store, `cdrs/${body.id}`, body);
      const location = `${url.origin}${url.pathname.replace(/\/$/, '')}/${body.id}`;
      return ok(undefined, { Location: location });
    }
    if (method === 'GET' && segments.length === 1) {
      const cdr = store.get(`cdrs/${segments[0]}`);
      return cdr ? ok(cdr) : fail(404, 2000, 'Unknown CDR');
    }
    return segments.length <= 1 ? methodNotAllowed() : fail(404, 2000, 'Expected /cdrs/{id}');
  }

  /** `POST /commands/{command}/{uid}`: the CPO's result of a command the hub sent it. */
  private commandResult(
    store: Map<string, Json>,
    method: string,
    segments: string[],
    body: unknown,
  ): ModuleAnswer {
    const [command, uid, ...rest] = segments;
    if (!command || !uid || rest.length > 0)
      return fail(404, 2000, 'Expected /commands/{command}/{uid}');
    const key = `commands/${command}/${uid}`;
    if (method === 'GET') {
      const result = store.get(key);
      return result ? ok(result) : fail(404, 2000, 'No result for this command');
    }
    if (method !== 'POST') return methodNotAllowed();
    if (!isObject(body)) return invalid();
    remember(store, key, { ...body, received_at: ocpiNow() });
    return ok();
  }

  /** The eMSP as the sender of tokens: a paged list, and real-time authorization. */
  private tokensSender({ method, segments, query, url, body }: ModuleCall): ModuleAnswer {
    if (segments.length === 0) {
      if (method !== 'GET') return methodNotAllowed();
      const offset = nonNegative(query.get('offset')) ?? 0;
      const limit = Math.min(
        nonNegative(query.get('limit')) ?? TOKENS_PAGE_LIMIT,
        TOKENS_PAGE_LIMIT,
      );
      const page = this.tokens.slice(offset, offset + limit);
      const headers: Record<string, string> = {
        'X-Total-Count': String(this.tokens.length),
        'X-Limit': String(TOKENS_PAGE_LIMIT),
      };
      if (limit > 0 && offset + limit < this.tokens.length) {
        const next = new URL(url);
        next.searchParams.set('offset', String(offset + limit));
        next.searchParams.set('limit', String(limit));
        headers.Link = `<${next.href}>; rel="next"`;
      }
      return ok(page, headers);
    }
    const [uid, action, ...rest] = segments;
    if (action !== 'authorize' || rest.length > 0)
      return fail(404, 2000, 'Expected /tokens/{uid}/authorize');
    if (method !== 'POST') return methodNotAllowed();
    if (!this.tokens.some((token) => token.uid === uid)) return fail(404, 2000, 'Unknown token');
    // The location references asked about, if any, are allowed as they are.
    return ok({ allowed: 'ALLOWED', ...(isObject(body) && { location: body }) });
  }
}

/** Keeps `value` under `key`, dropping the oldest object past the bound. */
function remember(store: Map<string, Json>, key: string, value: Json): void {
  store.delete(key);
  store.set(key, value);
  if (store.size > MAX_STORED_OBJECTS) store.delete(store.keys().next().value as string);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegative(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
