import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import type { Principal } from './principal.js';
import type { Scope } from './scopes.js';
import { DomainError } from '../common/errors.js';

/** What a route asks of its caller; the access guard reads it (AccessGuard). */
export type Access =
  /** A principal holding this scope (the provider holds them all). */
  | { scope: Scope }
  /** The provider's ADMIN_TOKEN only: organisations. */
  | { provider: true }
  /**
   * Any API key or the admin token (not the METRICS_TOKEN and RELAY_TOKEN shortcuts); the
   * service decides on what is asked (API keys: at most the caller's own scopes and organisation).
   */
  | { keys: true };

export const ACCESS = 'access';

/** What OpenAPI says a route needs (`x-required-access`), and Swagger UI shows with its 403. */
function documented(access: Access, required: string, forbidden: string): MethodDecorator {
  return applyDecorators(
    SetMetadata(ACCESS, access),
    ApiExtension('x-required-access', required),
    ApiExtraModels(ErrorBodyDto),
    // JSON whatever the route produces on success (/metrics: Prometheus text).
    ApiResponse({
      status: 403,
      description: forbidden,
      content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorBodyDto) } } },
    }),
  );
}

/**
 * The one access decorator of a handler that needs a scope: its 403 names the scope. `more` adds
 * to the documented 403 what else the route refuses (a field only the provider may set).
 */
export function RequireScope(scope: Scope, more?: string): MethodDecorator {
  return documented(
    { scope },
    `scope ${scope}`,
    `Needs scope \`${scope}\`: the key lacks it (the error names it)${more ? `; or ${more}` : ''}`,
  );
}

/** The one access decorator of a provider-only handler: ADMIN_TOKEN. */
export function RequireProvider(): MethodDecorator {
  return documented(
    { provider: true },
    'provider (ADMIN_TOKEN)',
    "The provider's route: it needs ADMIN_TOKEN, no API key opens it",
  );
}

/** The one access decorator of the API key routes: the admin token or any API key. */
export function RequireApiKeyOrProvider(): MethodDecorator {
  return documented(
    { keys: true },
    'ADMIN_TOKEN or any API key, within its own scopes and organisation',
    'Beyond the key: more scopes than it has, another organisation, or METRICS_TOKEN/RELAY_TOKEN (they manage no keys)',
  );
}

/** A caller whose token opens the service but not this: 403, with what is missing. */
export class ForbiddenError extends DomainError {
  readonly status = 403;
}

/** Throws 403 unless `principal` may do what `access` asks. */
export function authorize(principal: Principal, access: Access): void {
  if ('scope' in access) {
    if (!principal.scopes.includes(access.scope)) {
      throw new ForbiddenError(
        `Scope ${access.scope} is required: this ${principal.kind === 'key' ? 'API key' : 'token'} has ${principal.scopes.join(', ')}`,
      );
    }
  } else if ('provider' in access) {
    if (principal.kind !== 'provider') {
      throw new ForbiddenError("Only the provider's admin token (ADMIN_TOKEN) opens this route");
    }
  } else if (principal.kind === 'token') {
    throw new ForbiddenError(
      `${principal.name} manages no API keys: use the admin token or an API key`,
    );
  }
}
