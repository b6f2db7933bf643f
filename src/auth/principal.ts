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

/**
 * Whether the principal sees an operation of this organisation (null: of none). A bound key sees
 * its organisation's only: any other is, to it, as if it did not exist (404).
 */
export function sees(principal: Principal, operation: { organisationId: string | null }): boolean {
  return (
    principal.organisationId === undefined || operation.organisationId === principal.organisationId
  );
}

/** The `{operation}` of a path and who asks for it: what the operation pipes resolve. */
export interface OperationRequest {
  ref: string;
  principal: Principal;
}

/** The `{operation}` path parameter with the request's principal, for a pipe to resolve. */
export const OperationParam = createParamDecorator(
  (_: unknown, context: ExecutionContext): OperationRequest => {
    const request = context.switchToHttp().getRequest<Request>();
    return { ref: String(request.params.operation), principal: principalOf(request) };
  },
);
