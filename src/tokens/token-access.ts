import type { TokenKind, TokenState } from './issued-token.entity.js';

/**
 * What a presented token may do for its operation right now (DESIGN section 5):
 * REGISTRATION: token A; CONNECTION: the registered peer's token; CALLBACK: a token we are
 * sending in a ToIOP POST/PUT, valid for the peer's call-back only; REREGISTRATION: the last
 * connection token of a peer that unregistered, within the grace period.
 */
export type TokenRole = 'REGISTRATION' | 'CONNECTION' | 'CALLBACK' | 'REREGISTRATION';

/** The role of a stored token, or none (it opens nothing) once revoked or expired. */
export function roleOf(
  kind: TokenKind,
  state: TokenState,
  expired: boolean,
): TokenRole | undefined {
  if (expired) return undefined;
  if (kind === 'REGISTRATION') return state === 'ACTIVE' ? 'REGISTRATION' : undefined;
  switch (state) {
    case 'ACTIVE':
      return 'CONNECTION';
    case 'PENDING':
      return 'CALLBACK';
    case 'REREGISTER_ONLY':
      return 'REREGISTRATION';
    case 'REVOKED':
      return undefined;
  }
}

/** The OCPI routes, as far as tokens are concerned. */
export type OcpiRoute =
  | 'versions'
  | 'credentials.get'
  | 'credentials.post'
  | 'credentials.put'
  | 'credentials.delete'
  /** Any call to a module behind the gateway: for the registered peer only. */
  | 'module';

export type AccessDecision = 'allow' | 401 | 405;

/**
 * Which token opens what. 401 never tells more than "not a token of this operation"; 405 is for
 * a token the operation knows, used where the connection's state says no.
 */
const ACCESS: Record<OcpiRoute, Record<TokenRole, AccessDecision>> = {
  versions: {
    REGISTRATION: 'allow',
    CONNECTION: 'allow',
    CALLBACK: 'allow',
    REREGISTRATION: 'allow',
  },
  'credentials.get': { REGISTRATION: 401, CONNECTION: 'allow', CALLBACK: 401, REREGISTRATION: 401 },
  'credentials.post': {
    REGISTRATION: 'allow',
    CONNECTION: 405,
    CALLBACK: 401,
    REREGISTRATION: 'allow',
  },
  'credentials.put': { REGISTRATION: 405, CONNECTION: 'allow', CALLBACK: 401, REREGISTRATION: 405 },
  'credentials.delete': {
    REGISTRATION: 405,
    CONNECTION: 'allow',
    CALLBACK: 401,
    REREGISTRATION: 405,
  },
  module: { REGISTRATION: 401, CONNECTION: 'allow', CALLBACK: 401, REREGISTRATION: 401 },
};

/** Whether the route refuses some token of the operation with 405 (for the OpenAPI document). */
export function mayRefuseWith405(route: OcpiRoute): boolean {
  return Object.values(ACCESS[route]).includes(405);
}

/** Whether a token of this role (none: unknown, revoked, expired) opens the route. */
export function accessTo(route: OcpiRoute, role: TokenRole | undefined): AccessDecision {
  return role ? ACCESS[route][role] : 401;
}
