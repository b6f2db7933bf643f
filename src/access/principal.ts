import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Scope } from './scopes.js';

/**
 * Who is calling, as the access guard resolved the bearer token:
 * - `provider`: ADMIN_TOKEN, every scope, every operation;
 * - `token`: METRICS_TOKEN or RELAY_TOKEN, one scope each, every operation;
 * - `key`: an API key, its scopes, and its organisation's operations only when bound to one.
 */
export interface Principal {
  kind: 'provider' | 'token' | 'key';
  /** The API key's id (kind `key`). */
  keyId?: string;
  /** `ADMIN_TOKEN`, `METRICS_TOKEN`, `RELAY_TOKEN`, or the key's name: never a secret. */
  name: string;
  /** Set for a key bound to an organisation: it sees that organisation's operations only. */
  organisationId?: string;
  scopes: readonly Scope[];
}

const PRINCIPALS = new WeakMap<Request, Principal>();

export function setPrincipal(request: Request, principal: Principal): void {
  PRINCIPALS.set(request, principal);
}

/** The principal of a request the access guard let through. */
export function principalOf(request: Request): Principal {
  const principal = PRINCIPALS.get(request);
  // Only a route without the access guard gets here: a programming error, never a caller's.
  if (!principal) throw new Error(`${request.method} ${request.path} has no access guard`);
  return principal;
}

/** How logs and `created_by` name a principal: `ADMIN_TOKEN`, or `key {id} ({name})`. */
export function describePrincipal(principal: Principal): string {
  return principal.kind === 'key' ? `key ${principal.keyId} (${principal.name})` : principal.name;
}

/** The principal of the request, as a handler parameter. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext) =>
  principalOf(context.switchToHttp().getRequest<Request>()),
);
