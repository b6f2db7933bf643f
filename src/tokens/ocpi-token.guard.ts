import {
  applyDecorators,
  createParamDecorator,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuthFailureLimiter } from '../auth/auth-failure-limiter.js';
import { NotAllowedError, NotFoundError } from '../common/errors.js';
import { ApiOcpiErrors, OCPI_ROUTE_ERRORS } from '../ocpi/api-ocpi-response.js';
import { formatOperatorId, parseOperatorId } from '../operations/operator-id.js';
import { accessTo, mayRefuseWith405, type OcpiRoute } from './token-access.js';
import { TokensService, type Authentication, type PresentedToken } from './tokens.service.js';

const ROUTE_KEY = 'ocpi:route';

/** The OpenAPI security scheme of the OCPI routes: `Authorization: Token {token}`. */
export const OCPI_AUTH_SCHEME = 'ocpi-token';
const MAX_TOKEN_LENGTH = 64;

type OcpiRequest = Request & { ocpi?: Authentication & { token: PresentedToken } };

/**
 * The one guard of every OCPI route: resolves the operation from the path (unknown: 404), then
 * the presented `Authorization: Token {token}` (plain, no Base64 in 2.1.1) for that operation,
 * and checks the route allows that kind of token.
 */
@Injectable()
export class OcpiTokenGuard implements CanActivate {
  constructor(
    private readonly tokens: TokensService,
    private readonly reflector: Reflector,
    private readonly limiter: AuthFailureLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<OcpiRoute>(ROUTE_KEY, context.getHandler());
    const request = context.switchToHttp().getRequest<OcpiRequest>();
    const { countryCode, partyId } = request.params as Record<string, string>;
    const operator = parseOperatorId(`${countryCode}*${partyId}`);
    const presented = presentedToken(request);
    let auth = operator && (await this.tokens.authenticate(operator, presented));
    const decide = (found: Authentication) => accessTo(route, found.token?.role);
    // The cache may not have heard yet of a change committed a moment ago (GIREVE's POST right
    // after its DELETE): a refusal is only given on what the database says now.
    if (operator && auth?.cached && decide(auth) !== 'allow') {
      auth = await this.tokens.authenticate(operator, presented, { fresh: true });
    }
    // Unknown operations count in one budget per address, so that operation ids cannot be
    // enumerated at full speed.
    if (!auth) {
      return this.limiter.fail(
        request.ip,
        'ocpi unknown-operation',
        new NotFoundError(`No operation ${countryCode}/${partyId}`),
      );
    }
    const decision = decide(auth);
    if (decision === 401 || !auth.token) {
      return this.limiter.unauthorized(
        request.ip,
        `ocpi ${formatOperatorId(auth.operation)}`,
        'A valid token of this operation is required: Authorization: Token {token}',
      );
    }
    if (decision === 405) {
      throw new NotAllowedError(
        auth.token.role === 'CONNECTION'
          ? 'The peer is registered already'
          : 'The peer is not registered',
      );
    }
    request.ocpi = { operation: auth.operation, token: auth.token, peer: auth.peer };
    return true;
  }
}

function presentedToken(request: Request): string | undefined {
  const match = /^Token (\S+)$/i.exec(request.headers.authorization ?? '');
  return match && match[1].length <= MAX_TOKEN_LENGTH ? match[1] : undefined;
}

/** The operation and token the guard resolved. */
export const OcpiAuth = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<OcpiRequest>().ocpi,
);

/**
 * Marks a controller as OCPI: documented with its path parameters, its token and the errors every
 * OCPI route may answer (in the OCPI envelope). Its handlers return
 * their envelope (`ocpiSuccess`) themselves rather than through an interceptor: Nest runs
 * interceptors through RxJS, which cost a fifth of the time of GET versions (npm run bench).
 */
export function OcpiController(tag: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    ApiParam({ name: 'countryCode', example: 'FR', description: 'Country code of the operation' }),
    ApiParam({ name: 'partyId', example: 'AB1', description: 'Party id of the operation' }),
    ApiSecurity(OCPI_AUTH_SCHEME),
    ApiOcpiErrors(OCPI_ROUTE_ERRORS),
  );
}

/** Guards one OCPI handler with the access rules of its route, and documents its 405 if any. */
export function OcpiAccess(route: OcpiRoute): MethodDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_KEY, route),
    UseGuards(OcpiTokenGuard),
    ...(mayRefuseWith405(route)
      ? [
          ApiOcpiErrors({
            405: 'A token of this operation that the state of the connection does not allow here: the peer is registered already (POST), or not registered (PUT, DELETE)',
          }),
        ]
      : []),
  );
}
